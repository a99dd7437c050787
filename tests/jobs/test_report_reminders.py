"""An obligation's report past its due date reminds the researcher (issue 11, part 5):
once per request and Nation owed, at that Nation's ``remind_report_days``, through a
real SMTP server; a reminder changes no obligation, decision or state (invariant 3)."""

from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes
from email.policy import default

from sqlmodel import select
from test_notices_and_reminders import EMAIL, reminders_to

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.jobs.runner import run_job
from portal.registry.models import Nation

from obligated import YEARLY, Obligated


def _set_report_days(app, slug: str, days: int | None) -> None:
    with app.app_context(), session_scope() as session:
        nation = session.exec(select(Nation).where(Nation.slug == slug)).one()
        nation.remind_report_days = days
        session.add(nation)


def test_an_overdue_report_reminds_the_researcher_once_per_the_nations_interval(
    app, flow, make_user, inbox
):
    owed = Obligated(app, flow, make_user)
    ref = owed.active()
    due = date.today()
    for key in (YEARLY, "return_or_destroy"):  # two of Red Cedar's: one reminder
        owed.set_due(ref, key, due)
    owed.set_due(ref, "Share a plain-language summary with the community.", due)
    _set_report_days(app, "blue-heron", None)  # Blue Heron sends no report reminders
    start = datetime.combine(due, time(), tzinfo=UTC)
    states = {key: o.state for key, o in owed.obligations(ref).items()}

    def remind(days: float) -> str:
        return run_job(app, "reminders", start + timedelta(days=days))

    assert remind(13.99) == "0 reminder(s) queued", "Red Cedar waits 14 days"
    assert remind(14) == "1 reminder(s) queued"
    assert remind(14) == remind(27.99) == "0 reminder(s) queued", "at most once per interval"
    assert remind(28) == "1 reminder(s) queued"
    assert {key: o.state for key, o in owed.obligations(ref).items()} == states, "no change"
    assert flow.status(ref) == "active"
    owed.report("researcher", ref, YEARLY)
    assert remind(42) == "1 reminder(s) queued", "the other one is still owed"
    owed.report("researcher", ref, "return_or_destroy")
    assert remind(100) == "0 reminder(s) queued", "reported: nothing is owed"

    run_job(app, "deliver_mail")
    assert reminders_to(inbox, "researcher") == [
        f"Reminder: {ref} has waited {days} days for your report on an obligation"
        for days in (14, 28, 42)
    ]
    for who in ("cedar_rep", "cedar_steward1", "heron_rep", "coordinator"):
        assert reminders_to(inbox, who) == [], who
    (first, *_) = [
        message_from_bytes(m.content, policy=default)
        for m in inbox.messages
        if EMAIL["researcher"] in m.rcpt_tos
        and "Reminder: " in str(message_from_bytes(m.content, policy=default)["Subject"])
    ]
    body = first.get_body(preferencelist=("plain",)).get_content()
    # The longest overdue first; of two due the same day, the older one.
    first_owed = min(owed.id(ref, YEARLY), owed.id(ref, "return_or_destroy"))
    assert f"/requests/{ref}/obligations/{first_owed}/report" in body
    assert f"owed to Red Cedar Nation (fictional) was due on {due}" in body
    with app.app_context(), session_scope() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "reminder.sent").order_by(AuditEvent.id)
        ).all()
        assert [e.details for e in events] == [
            {"step": "report_obligation", "waited_days": days} for days in (14, 28, 42)
        ]
