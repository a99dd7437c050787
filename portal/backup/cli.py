"""`portal backup FILE` and `portal restore FILE [--force]` (the work: service.py)."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.backup import service
from portal.clitools import reports_failures
from portal.db import get_engine
from portal.storage import s3


def _settings() -> tuple[str, Path]:
    return current_app.config["DATABASE_URL"], Path(current_app.config["INSTANCE_PATH"])


def _store() -> s3.ObjectStore | None:
    """The S3-compatible bucket the portal keeps files in (STORAGE_S3_*), if any."""
    settings = s3.settings_from(current_app.config)
    return s3.ObjectStore(settings) if settings is not None else None


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@reports_failures
def backup(file: Path) -> None:
    """Write the database (agreements included), the files kept in the S3-compatible
    bucket if one is configured, and the instance folder's files (the CA key) to FILE, a
    gzip tar readable by its owner alone. The portal may go on running."""
    manifest = service.backup(*_settings(), file, _store())
    head = manifest["audit_chain_head"]
    click.echo(
        f"Backed up to {file}: the database and {len(manifest['members']) - 1} files, audit "
        f"chain head event {head['last_event_id']} {head['hash']}. "
        "It holds the CA key: keep it as safe as the key."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what a database that is not empty holds.")
@with_appcontext
@reports_failures
def restore(file: Path, force: bool) -> None:
    """Check FILE whole, then restore its database and instance files (stop the portal
    first), and its stored files into the configured bucket (else into the database).
    Exits 1 unless the audit chain is intact and ends where the backup's did."""
    get_engine().dispose()  # this command's own connections must not outlive the old file
    restored = service.restore(*_settings(), file, force=force, store=_store())
    click.echo(
        f"Restored {file}: {restored.events} events, chain intact, head event "
        f"{restored.last_event_id} {restored.last_hash}."
    )
    if restored.needs_upgrade:
        click.echo(
            f"The database is at revision {restored.revision}; "
            f"run `portal db upgrade` to bring it to {restored.head_revision}."
        )
