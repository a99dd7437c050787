"""``portal datasets webhook`` (a custodian's endpoint and secret) and ``portal notices``
(the custodians' signed notices: send what is due, read the log)."""

import click
from flask.cli import AppGroup, with_appcontext

from portal.clitools import reports_failures
from portal.db import session_scope, utcnow
from portal.registry.service import get_dataset
from portal.workflow import deliveries


@click.command("webhook")
@click.argument("slug")
@click.option("--url", help="The custodian's HTTPS endpoint for signed notices.")
@click.option("--rotate", is_flag=True, help="Make a new secret (the old one stops working).")
@click.option("--remove", is_flag=True, help="Send this dataset's custodian no more notices.")
@with_appcontext
@reports_failures
def datasets_webhook(slug: str, url: str | None, rotate: bool, remove: bool) -> None:
    """Register where the dataset's custodian receives its signed entitlement notices.
    A new secret (whsec_...) is printed once: give it to the custodian; it is never
    shown again (--rotate makes another)."""
    with session_scope() as session:
        dataset = get_dataset(session, slug)
        if remove:
            removed = deliveries.remove_endpoint(session, None, dataset)
            done = "Endpoint removed." if removed else "The dataset had no endpoint."
        else:
            if url is None:
                endpoint = deliveries.current_endpoint(session, dataset)
                if endpoint is None:
                    raise click.UsageError("give --url (the dataset has no endpoint yet)")
                url = endpoint.url
            endpoint, secret = deliveries.register_endpoint(session, None, dataset, url, rotate)
            done = f"Notices for {dataset.slug} go to {endpoint.url}."
            if secret:
                done += f"\nSigning secret (shown once, keep it safe): {secret}"
    click.echo(done)


notices_cli = AppGroup("notices", help="Signed entitlement notices to data custodians.")


@notices_cli.command("deliver")
@reports_failures
def notices_deliver() -> None:
    """Send every notice that is due, once (run it every minute from a scheduler)."""
    from portal.jobs.custodians import deliver_custodian_notices

    with session_scope() as session:
        counts = deliver_custodian_notices(session, utcnow())
    click.echo(
        f"{counts['delivered']} delivered, {counts['waiting']} waiting for a retry, "
        f"{counts['failed']} failed after a day."
    )
