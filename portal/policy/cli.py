"""`portal policy check` and `portal policy load`."""

from pathlib import Path

import click
from flask.cli import AppGroup

from portal.clitools import reports_failures
from portal.db import session_scope
from portal.paths import resource_dir
from portal.policy.check import check_directory, summary
from portal.policy.files import read_directory
from portal.policy.store import read_version
from portal.policy.sync import load_files

policy_cli = AppGroup("policy", help="The governance rules: Casbin policy in policies/.")

directory_option = click.option(
    "--policies",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The folder with model.conf and the *.csv files (default: the portal's policies/).",
)


@policy_cli.command("check")
@directory_option
@click.pass_context
def policy_check(context: click.Context, directory: Path | None) -> None:
    """Lint the policy files: exit 1 with one line per problem, else print a summary."""
    directory = directory or resource_dir("policies")
    problems = check_directory(directory)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        context.exit(1)
    click.echo(summary(read_directory(directory)[0]))


@policy_cli.command("load")
@directory_option
@reports_failures
def policy_load(directory: Path | None) -> None:
    """Check the policy files and replace the database's file-sourced lines with them;
    once member Nations exist, propose the change to them instead."""
    directory = directory or resource_dir("policies")
    with session_scope() as session:
        loaded = load_files(session, directory)
        version = read_version(session)
        proposal = loaded.proposal.id if loaded.proposal else None
    if proposal is not None:
        click.echo(f"Proposal #{proposal} awaits the member Nations' approval.")
    elif loaded.changed:
        click.echo(
            f"Loaded {loaded.lines} policy lines from {directory}; policy version {version}."
        )
    else:
        click.echo(f"Policy unchanged: the database holds the {loaded.lines} lines of {directory}.")
