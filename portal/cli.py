"""The ``portal`` command line (README.md, "Command line").

Exit codes: 0 done; 1 refused or failed, with a one-line reason on stderr;
2 bad usage (click's own). Every command runs in one transaction. Commands act as
the system: the audit events they write have no actor (services' ``actor=None``).
"""

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from portal.auth import service as auth
from portal.auth.models import NATION_ROLES, Role
from portal.clitools import GreedyOption, reports_failures
from portal.db import get_engine, session_scope
from portal.policy import membership
from portal.registry import service as registry

# --- db -------------------------------------------------------------------------------

db_cli = AppGroup("db", help="The database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@reports_failures
def db_upgrade(revision: str) -> None:
    """Apply the migrations in migrations/ (safe to run again)."""
    from portal import migrate

    config = current_app.config
    migrate.upgrade(config["DATABASE_URL"], revision, Path(config["INSTANCE_PATH"]))
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option("--rev-id", required=True, help="The next number, e.g. 0002.")
@reports_failures
def db_revision(message: str, rev_id: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from portal import migrate

    migrate.revision(current_app.config["DATABASE_URL"], message, rev_id)


# --- users ----------------------------------------------------------------------------

users_cli = AppGroup("users", help="Logins, roles and API tokens.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--institution", default="", help="Their organisation.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@reports_failures
def users_create(email: str, name: str, institution: str, password_stdin: bool) -> None:
    """Create a login. The password is read from standard input, never from the command line."""
    if not password_stdin:
        raise click.UsageError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    with session_scope() as session:
        created = auth.create_user(session, email, name, password, institution).email
    click.echo(f"Created {created}.")  # only once committed


@users_cli.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--nation", "nation_slug", help="The Nation (for steward and representative).")
@reports_failures
def users_grant(email: str, role: str, nation_slug: str | None) -> None:
    """Give a person a role: portal-wide, or for one Nation."""
    role = Role(role)
    if role in NATION_ROLES and not nation_slug:
        raise click.UsageError(f"a {role} acts for one Nation: add --nation SLUG")
    if role not in NATION_ROLES and nation_slug:
        raise click.UsageError(f"a {role} acts portal-wide: leave out --nation")
    with session_scope() as session:
        user = auth.get_user(session, email)
        nation = registry.get_nation(session, nation_slug) if nation_slug else None
        auth.grant_role(session, user, role, nation)
        done = f"{user.email} is now {role}" + (f" for {nation.name}." if nation else ".")
    click.echo(done)


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@reports_failures
def users_token(email: str, name: str) -> None:
    """Print a new API token for the person (shown once, stored only as a hash)."""
    with session_scope() as session:
        token, _record = auth.create_api_token(session, auth.get_user(session, email), name)
    click.echo(token)


@users_cli.command("deactivate")
@click.argument("email")
@reports_failures
def users_deactivate(email: str) -> None:
    """End a login: no more sign-ins, and every session and API token of it stops working."""
    from portal.auth.accounts import deactivate_user

    with session_scope() as session:
        user = auth.get_user(session, email)
        deactivate_user(session, user)
        done = f"{user.email} is deactivated."
    click.echo(done)


@users_cli.command("reset-2fa")
@click.argument("email")
@reports_failures
def users_reset_2fa(email: str) -> None:
    """Remove a person's second factor (lost app and recovery codes): their sessions end,
    and if their roles require it they set it up again at their next sign-in."""
    from portal.auth.twofactor import reset

    with session_scope() as session:
        user = auth.get_user(session, email)
        reset(session, user)
        done = f"Two-factor sign-in of {user.email} is reset."
    click.echo(done)


# --- registry -------------------------------------------------------------------------


def own_names(command):
    """--name-fr, --name-own and --name-own-lang: the names beside the English one."""
    for flag, text in reversed(
        (
            ("--name-fr", "Its name in French."),
            ("--name-own", "Its name in the Nation's own language and script."),
            ("--name-own-lang", "That name's BCP 47 language tag (e.g. cr-Cans, moh)."),
        )
    ):
        command = click.option(flag, default="", help=text)(command)
    return command


nations_cli = AppGroup("nations", help="Nations and communities, and their governance profiles.")


@nations_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--framework", required=True, metavar="{OCAP,OCAS,CARE}")
@click.option(
    "--quorum",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Steward reviews needed on a revision before approval.",
)
@click.option(
    "--min-approvals",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="How many of those reviews must recommend approval.",
)
@click.option(
    "--residency",
    cls=GreedyOption,
    multiple=True,
    metavar="CODE ...",
    help="ISO 3166 codes where the data may be stored (e.g. CA CA-ON).",
)
@click.option(
    "--max-term-days",
    type=click.IntRange(min=0),
    default=None,
    help="Longest term of an agreement, in days.",
)
@own_names
@reports_failures
def nations_create(
    slug, name, framework, quorum, min_approvals, residency, max_term_days, **names
) -> None:
    """Register a Nation or community and its governance profile."""
    with session_scope() as session:
        nation = membership.register_nation(
            session,
            None,
            slug,
            name,
            framework.upper(),
            review_quorum=quorum,
            min_approvals=min_approvals,
            residency=residency,
            max_term_days=max_term_days,
            names=names,
        )
        done = f"Registered {nation.name} ({nation.slug})."
        if nation.admitted_at is None:
            done += " It becomes a member Nation when the member Nations approve its admission."
    click.echo(done)


datasets_cli = AppGroup("datasets", help="Administrative datasets and whose data they hold.")


@datasets_cli.command("create")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--custodian", required=True, help="The government body that holds it.")
@click.option(
    "--nation",
    "nations",
    multiple=True,
    required=True,
    help="A Nation whose data it holds (repeat for several).",
)
@click.option("--description", default="")
@own_names
@reports_failures
def datasets_create(slug, title, custodian, nations, description, **names) -> None:
    """Register an administrative dataset and whose data it holds."""
    with session_scope() as session:
        dataset = registry.create_dataset(
            session, slug, title, custodian, nations, description, names=names
        )
        done = f"Registered dataset {dataset.slug}."
    click.echo(done)


# --- audit ----------------------------------------------------------------------------

audit_cli = AppGroup("audit", help="The tamper-evident audit record.")


@audit_cli.command("verify")
@reports_failures
def audit_verify() -> None:
    """Re-walk the hash chain; exit 1 naming the first event that was altered,
    removed, inserted or moved."""
    from portal.audit.verify import verify_chain

    report = verify_chain(get_engine())
    if not report.intact:
        raise click.ClickException(str(report.problem))
    click.echo(f"{report.events} events, chain intact")


# --- serving --------------------------------------------------------------------------


LOCAL_HOSTS = frozenset({"127.0.0.1", "0.0.0.0", "::", "localhost"})  # noqa: S104 (not a bind)


def link_to(app: Flask, host: str, port: int) -> None:
    """Unless PORTAL_URL says where people reach the portal, the links mailed lead to
    where this serves it (a demo on --port 5088 mailed links to port 5000)."""
    if os.environ.get("PORTAL_URL"):
        return
    # Served on every interface or the loopback one: this machine's own name reaches it.
    shown = "localhost" if host in LOCAL_HOSTS else f"[{host}]" if ":" in host else host
    app.config["PORTAL_URL"] = f"http://{shown}:{port}"


def _serve(app: Flask, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    if not app.config["SECRET_KEY"]:
        raise click.ClickException(
            "SECRET_KEY is not set: export SECRET_KEY, or run `portal demo` to create one"
        )
    from portal.jobs import inline

    link_to(app, host, port)
    # Without Redis the periodic jobs run here (with it, `portal worker` runs them).
    if inline.start(app) is not None:
        click.echo("Running the periodic jobs in this process (no REDIS_URL).")
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True)


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Serve the portal (in production: gunicorn 'portal:create_app()')."""
    _serve(current_app._get_current_object(), host, port)


@click.command("demo")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Seed and exit.")
@reports_failures
def demo(host: str, port: int, no_serve: bool) -> None:
    """Upgrade the database, seed the fictional demo (idempotent), print the logins, serve."""
    from portal import demo as demo_data
    from portal import migrate
    from portal.policy.sync import load_files as load_policy_files

    app = current_app._get_current_object()
    demo_data.ensure_secret_key(app)
    migrate.upgrade(app.config["DATABASE_URL"], instance=Path(app.config["INSTANCE_PATH"]))
    with session_scope() as session:
        load_policy_files(session)
        demo_data.seed(session)
    click.echo(demo_data.LOGINS_TEXT)
    if not no_serve:
        app.config["SESSION_COOKIE_SECURE"] = False  # the demo is plain HTTP on this machine
        _serve(app, host, port)


mail_cli = AppGroup("mail", help="Notifications waiting in the outbox.")


@mail_cli.command("send")
@reports_failures
def mail_send() -> None:
    """Send what waits in the outbox now (the deliver_mail job does so every minute)."""
    from portal.notify.service import deliver

    with session_scope() as session:
        sent, failed = deliver(session, current_app.config)
    click.echo(f"{sent} sent, {failed} still waiting.")
    if failed:
        raise click.ClickException(f"{failed} message(s) could not be delivered; they stay queued")


@mail_cli.command("retry")
@click.argument("message_id", type=int)
@reports_failures
def mail_retry(message_id: int) -> None:
    """Put a message that failed every attempt back in the outbox (`portal jobs list
    --failed` lists them)."""
    from portal.notify.service import retry

    with session_scope() as session:
        message = retry(session, message_id)
        if message is None:
            raise click.ClickException(f"no failed message {message_id}")
        done = f"Message {message_id} to {message.recipient} waits in the outbox again."
    click.echo(done)


def register_commands(app: Flask) -> None:
    from portal.agreements.cli import agreements_cli
    from portal.backup.cli import backup, restore
    from portal.jobs.cli import jobs_cli, worker
    from portal.notify.cli import datasets_webhook, notices_cli
    from portal.policy.cli import policy_cli

    commands = (db_cli, users_cli, nations_cli, datasets_cli, policy_cli, audit_cli, mail_cli)
    commands = (*commands, agreements_cli, jobs_cli, notices_cli)
    datasets_cli.add_command(datasets_webhook)
    for command in (*commands, backup, restore, serve, demo, worker):
        app.cli.add_command(command)
