"""`portal worker` and `portal jobs`: the periodic jobs, their failures, running them."""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from portal.clitools import reports_failures
from portal.db import session_scope
from portal.jobs.registry import JOBS
from portal.jobs.runner import everything_failed, mark_retried, run_job

jobs_cli = AppGroup("jobs", help="The periodic jobs: list them, their failures, run them.")


@jobs_cli.command("list")
@click.option("--failed", is_flag=True, help="Only what failed every retry (jobs and mail).")
@reports_failures
def jobs_list(failed: bool) -> None:
    """Every registered job and its interval, or what failed and waits for a retry."""
    if not failed:
        for job in JOBS.values():
            click.echo(f"{job.name:<20} every {job.interval}  {job.description}")
        return
    with session_scope() as session:
        jobs, messages = everything_failed(session)
        lines = [
            f"job {f.id}  {f.name}  {f.failed_at:%Y-%m-%d %H:%M} UTC  after {f.attempts} "
            f"tries ({f.runner}): {f.error}"
            for f in jobs
        ] + [
            f"mail {m.id}  to {m.recipient}  {m.failed_at:%Y-%m-%d %H:%M} UTC  after "
            f"{m.attempts} tries: {m.last_error}"
            for m in messages
        ]
    click.echo("\n".join(lines) if lines else "Nothing failed.")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)))
@reports_failures
def jobs_run(name: str) -> None:
    """Run one job now, in this process."""
    click.echo(f"{name}: {run_job(current_app._get_current_object(), name)}")


@jobs_cli.command("retry")
@click.argument("failed_id", type=int)
@reports_failures
def jobs_retry(failed_id: int) -> None:
    """Run a failed job again: on the queue when REDIS_URL is set, else now, here."""
    app = current_app._get_current_object()
    with session_scope() as session:
        failed = mark_retried(session, failed_id)
        if failed is None:
            raise click.ClickException(f"no failed job {failed_id} waits for a retry")
        name = failed.name
    if url := app.config.get("REDIS_URL"):
        from portal.jobs.worker import connect, enqueue

        click.echo(f"{name} is queued again as {enqueue(connect(url), name).id}.")
    else:
        click.echo(f"{name}: {run_job(app, name)}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued, then stop (no scheduling).")
@with_appcontext
def worker(burst: bool) -> None:
    """Run the jobs on Redis (REDIS_URL): an RQ worker with its scheduler."""
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if not url:
        click.echo(
            "REDIS_URL is not set: there is no queue to work on. Without Redis, "
            "`portal serve` (and gunicorn) run the jobs themselves.",
            err=True,
        )
        raise SystemExit(2)
    from portal.jobs.worker import work

    work(app, url, burst=burst)
