"""`portal agreements expire` (run daily, e.g. from cron) and `portal agreements verify`."""

import datetime as dt
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.agreements.verify import verify_pdf
from portal.clitools import reports_failures
from portal.db import session_scope
from portal.jobs.expiry import expire_due

agreements_cli = AppGroup("agreements", help="Data-use agreements: expiry and verification.")


@agreements_cli.command("expire")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date to expire at (default: today, UTC).",
)
@reports_failures
def agreements_expire(today: dt.datetime | None) -> None:
    """End access for every active request whose agreement's term is over."""
    day = today.date() if today else dt.datetime.now(dt.UTC).date()
    with session_scope() as session:
        refs = expire_due(session, day)
    click.echo(f"Expired {len(refs)} request(s){': ' + ', '.join(refs) if refs else '.'}")


@agreements_cli.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reports_failures
def agreements_verify(pdf: Path) -> None:
    """Say whether this portal issued PDF, who signed it, and the request's status.
    Exits 1 unless it is a stored version with every signature valid."""
    with session_scope() as session:
        result = verify_pdf(session, pdf.read_bytes())
        lines = [f"sha256 {result.sha256}"]
        if result.uncheckable:
            lines.append(result.uncheckable)
        if result.request is not None:
            status = result.status.value
            lines.append(f"request {result.request.ref}: {status}")
        for line in result.signatures:
            report = line.report
            verdict = "valid" if report.intact and report.valid and report.trusted else "INVALID"
            who = f"{line.signer_name} ({report.title})"
            lines.append(f"signature {report.field_name}: {who} {verdict}")
        if result.reading_copy is not None:
            lines.append(
                f"reading copy of agreement {result.request.ref}, not a signed document "
                f"(edition {result.agreement.edition} was signed in {result.agreement.language})"
            )
        issued = result.issued_here and result.all_valid
        if issued:
            lines.append(f"issued by this portal: version {result.version.number}")
    click.echo("\n".join(lines))
    if not issued:
        raise click.ClickException("not an unaltered agreement issued by this portal")
