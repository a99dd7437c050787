"""`portal policy check`, `portal policy load`, and the rules in words: `portal policy
show` (the rules in force) and `portal policy history` (one line per version)."""

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
from portal.policy.versions import rules_in_force
from portal.transparency.rulebook import history, rulebook

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


@policy_cli.command("show")
@reports_failures
def policy_show() -> None:
    """Print the rules in force in words: each role's, each action's, each Nation's own,
    the standard conditions and the agreement's standard clauses."""
    with session_scope() as session:
        book = rulebook(session, rules_in_force(session))
        version = book.version
        if version is None:
            click.echo("No version of the rules is recorded yet: these are the rules as loaded.")
        else:
            click.echo(
                f"Rules version {version.number}, in force since "
                f"{version.created_at:%Y-%m-%d %H:%M} UTC. {version.origin.sentence}."
            )
        sections = [
            *((f"{role.capitalize()}:", words) for role, words in book.by_role.items()),
            *((f"To {action}:", words) for action, words in book.by_action.items()),
            *(
                (f"{nation}'s own rules:", words)
                for nation, words in sorted(book.by_nation.items())
            ),
            ("Other rules:", book.other),
            ("Standard conditions:", [f"{label}: {text}" for label, text in book.catalogue]),
            ("The agreement's standard clauses:", [f"{t} {text}" for t, text in book.clauses]),
        ]
        for title, lines in sections:
            if lines:
                click.echo(f"\n{title}")
                click.echo("\n".join(f"  - {line}" for line in lines))


@policy_cli.command("history")
@reports_failures
def policy_history() -> None:
    """Print every version of the rules, one line each, newest first."""
    with session_scope() as session:
        versions = history(session)
        if not versions:
            click.echo("No version of the rules is recorded yet.")
        for version in versions:
            summary = f" — {version.summary}" if version.summary else ""
            click.echo(
                f"{version.number}\t{version.created_at:%Y-%m-%d %H:%M} UTC\t"
                f"{version.origin.sentence}{summary}"
            )
