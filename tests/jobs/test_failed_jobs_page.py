"""Administrators see what failed every retry (job runs and mail) on /admin/jobs, and
run it again from there; nobody else reaches the page."""

from datetime import timedelta

from sqlmodel import select

from portal.db import session_scope, utcnow
from portal.jobs import inline
from portal.jobs.models import FailedJob, JobSchedule
from portal.jobs.registry import JOBS, Job
from portal.jobs.runner import RETRY_DELAYS
from portal.notify import service as mail
from portal.notify.models import OutboxMessage

from flows import PEOPLE
from helpers import csrf_token, sign_in


def broken(session, now) -> str:
    raise RuntimeError("the archive's disk is full")


def test_failures_are_shown_to_administrators_and_run_again(app, flow, client, monkeypatch):
    monkeypatch.setitem(JOBS, "broken", Job("broken", broken, timedelta(hours=1), "fails"))
    now = utcnow()
    for delay in (0, *RETRY_DELAYS):
        now += timedelta(seconds=delay)
        inline.run_due(app, now)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9)  # nothing listens there
    flow.draft()  # no mail yet; a submission mails the researcher and the coordinators
    flow.do("researcher", "submit", flow.draft())
    with app.app_context(), session_scope() as session:
        for _ in range(mail.MAX_ATTEMPTS):
            mail.deliver(session, app.config)
        failed_mail = session.exec(select(OutboxMessage.id, OutboxMessage.recipient)).first()
        failed_job = session.exec(select(FailedJob.id)).one()

    sign_in(client, PEOPLE["coordinator"][0])
    assert client.get("/admin/jobs").status_code == 403
    client = app.test_client()
    sign_in(client, PEOPLE["admin"][0])
    page = client.get("/admin/jobs")
    assert page.status_code == 200 and 'href="/admin/jobs"' in page.text
    assert "the archive&#39;s disk is full" in page.text and failed_mail.recipient in page.text
    token = csrf_token(page.text)
    retried = client.post(
        "/admin/jobs", data={"csrf_token": token, "kind": "job", "item": failed_job}
    )
    assert retried.status_code == 302
    sent = client.post(
        "/admin/jobs", data={"csrf_token": token, "kind": "mail", "item": failed_mail.id}
    )
    assert sent.status_code == 302
    missing = client.post(
        "/admin/jobs", data={"csrf_token": token, "kind": "job", "item": failed_job}
    )
    assert missing.status_code == 404, "a failed run is retried once"
    with app.app_context(), session_scope() as session:
        assert session.get(FailedJob, failed_job).retried_at is not None
        assert session.get(JobSchedule, "broken").next_run_at <= utcnow(), "due again now"
        message = session.get(OutboxMessage, failed_mail.id)
        assert (message.failed_at, message.attempts) == (None, 0)
    assert "No job has failed." in client.get("/admin/jobs").text
