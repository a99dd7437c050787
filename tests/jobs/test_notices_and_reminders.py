"""Expiry notices 60, 30 and 7 days before the term ends, each sent once; reminders to
whoever may act on a step that waited too long, at most once per interval, audited, and
set per Nation on its governance page. Mail goes through a real SMTP server."""

from datetime import timedelta

from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope, utcnow
from portal.jobs.runner import run_job
from portal.registry.models import Nation
from portal.workflow.reminders import waiting_steps

from flows import PEOPLE
from helpers import csrf_token, sign_in, statements_during

EMAIL = {who: email for who, (email, _roles) in PEOPLE.items()}


def notices_to(inbox, who: str) -> list[str]:
    return [subject for subject in inbox.to(EMAIL[who]) if " ends in " in subject]


def reminders_to(inbox, who: str) -> list[str]:
    return [subject for subject in inbox.to(EMAIL[who]) if subject.startswith("Reminder: ")]


def test_term_ending_notices_go_out_60_30_and_7_days_before_each_once(app, active, inbox):
    def notices(days_after_end: int) -> str:
        return run_job(app, "expiry_notices", active.moment(days_after_end))

    assert notices(-61) == "0 notice(s) queued"
    assert notices(-60) == "1 notice(s) queued"
    assert notices(-60) == notices(-45) == "0 notice(s) queued", "each notice goes once"
    assert notices(-30) == notices(-7) == "1 notice(s) queued"
    assert notices(-3) == notices(0) == "0 notice(s) queued"
    run_job(app, "deliver_mail")
    for who in ("researcher", "cedar_rep", "heron_rep"):
        assert sorted(notices_to(inbox, who)) == sorted(
            f"The agreement for {active.ref} ends in {days} days" for days in (60, 30, 7)
        ), who
    for who in ("coordinator", "cedar_steward1", "heron_steward", "other_researcher"):
        assert notices_to(inbox, who) == [], who


def test_a_late_run_sends_the_nearest_notice_only(app, active, inbox):
    assert run_job(app, "expiry_notices", active.moment(-20)) == "1 notice(s) queued"
    assert run_job(app, "expiry_notices", active.moment(-10)) == "0 notice(s) queued"
    run_job(app, "deliver_mail")
    assert notices_to(inbox, "researcher") == [f"The agreement for {active.ref} ends in 20 days"]


def reminder_events(app) -> list[dict]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.action == "reminder.sent"))
        return [row.details for row in rows]


def test_reminders_go_to_whoever_may_act_once_per_interval(app, flow, inbox):
    in_review = flow.to_review()
    screening = flow.draft()
    flow.do("researcher", "submit", screening)
    start = utcnow()

    def remind(days: float) -> str:
        return run_job(app, "reminders", start + timedelta(days=days))

    assert remind(6) == "0 reminder(s) queued", "screening may wait 7 days"
    assert remind(8) == "1 reminder(s) queued"  # screening
    assert remind(8) == "0 reminder(s) queued", "at most once per interval"
    assert remind(15) == "3 reminder(s) queued"  # screening again; each Nation's review
    assert remind(20) == "0 reminder(s) queued"
    run_job(app, "deliver_mail")
    assert reminders_to(inbox, "coordinator") == [
        f"Reminder: {screening} has waited 8 days for screening",
        f"Reminder: {screening} has waited 15 days for screening",
    ]
    for who in ("cedar_steward1", "cedar_steward2", "cedar_steward3", "heron_steward"):
        assert reminders_to(inbox, who) == [
            f"Reminder: {in_review} has waited 15 days for the stewards' review"
        ], who
    for who in ("researcher", "cedar_rep", "heron_rep", "admin"):
        assert reminders_to(inbox, who) == [], who
    assert flow.status(in_review) == "under_review" and flow.status(screening) == "screening"
    events = reminder_events(app)
    assert len(events) == 4 and all(set(e) == {"step", "waited_days"} for e in events)


def test_a_nation_sets_its_reminder_intervals_on_its_governance_page(app, flow, client):
    sign_in(client, EMAIL["cedar_rep"])
    page = client.get("/nations/red-cedar/profile")
    assert page.status_code == 200 and 'name="remind_review_days"' in page.text
    form = {
        "csrf_token": csrf_token(page.text),
        "review_quorum": "2",
        "min_approvals": "1",
        "residency": "CA",
        "max_term_days": "",
        "small_cell_threshold": "5",
        "output_review_required": "y",
        "remind_review_days": "0",
        "remind_decision_days": "",
        "remind_signature_days": "30",
    }
    refused = client.post("/nations/red-cedar/profile", data=form)
    assert refused.status_code == 422 and "from 1 to 365" in refused.text
    form["remind_review_days"] = "3"
    assert client.post("/nations/red-cedar/profile", data=form).status_code in (200, 302, 303)
    with app.app_context(), session_scope() as session:
        cedar = session.exec(select(Nation).where(Nation.slug == "red-cedar")).one()
        assert (cedar.remind_review_days, cedar.remind_decision_days) == (3, None)
        assert cedar.remind_signature_days == 30
    in_review = flow.to_review()
    assert run_job(app, "reminders", utcnow() + timedelta(days=4)) == "1 reminder(s) queued"
    assert flow.status(in_review) == "under_review"


def test_a_nation_sets_its_reminder_intervals_through_the_api(app, flow):
    from apis import Api

    api = Api(app)
    path = "/nations/red-cedar/profile"
    refused = api.patch("cedar_rep", path, json={"remind_decision_days": 400})
    assert refused.status_code == 422 and "remind_decision_days" in refused.get_data(as_text=True)
    assert api.patch("heron_rep", path, json={"remind_decision_days": 3}).status_code == 403
    assert api.patch("cedar_steward1", path, json={"remind_decision_days": 3}).status_code == 403
    done = api.patch(
        "cedar_rep", path, json={"remind_decision_days": 3, "remind_review_days": None}
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    nation = done.get_json()
    assert (nation["remind_decision_days"], nation["remind_review_days"]) == (3, None)
    assert nation["remind_signature_days"] == 14 and nation["review_quorum"] == 2, "others kept"


def test_an_overdue_destruction_attestation_reminds_the_researcher_once_per_interval(
    app, active, flow, inbox
):
    from datetime import date

    from portal.workflow.commands import AttestDestruction, Close

    from helpers import PASSWORD

    flow.perform("researcher", active.ref, Close(reason="Finished early"))
    start = utcnow()

    def remind(days: float) -> str:
        return run_job(app, "reminders", start + timedelta(days=days))

    assert remind(29) == "0 reminder(s) queued", "each Nation gives 30 days to attest"
    assert remind(31) == "1 reminder(s) queued"
    assert remind(31) == remind(45) == "0 reminder(s) queued", "at most once per interval"
    assert remind(62) == "1 reminder(s) queued"
    what = ("Every extract", "Secure erase", str(date.today()), "Robin (fictional)")
    flow.perform("researcher", active.ref, AttestDestruction(*what, password=PASSWORD))
    assert remind(100) == "0 reminder(s) queued", "attested: nothing is owed"
    run_job(app, "deliver_mail")
    assert reminders_to(inbox, "researcher") == [
        f"Reminder: {active.ref} has waited {days} days for the destruction attestation"
        for days in (31, 62)
    ]
    for who in ("cedar_rep", "heron_rep", "coordinator", "cedar_steward1"):
        assert reminders_to(inbox, who) == [], who
    assert flow.status(active.ref) == "active"  # a reminder never changes the state


def test_the_reminders_scan_reads_many_waiting_requests_in_as_many_statements_as_one(app, flow):
    """A large portal has tens of thousands of waiting requests: the scan reads them a
    chunk at a time, each chunk's tracks and reviews in two statements, never two per
    request, and lets each chunk go before the next (BENCHMARKS.md, "Memory per worker")."""

    def statements_of_the_scan() -> tuple[int, int]:
        days = app.config.get("REMIND_SCREENING_DAYS")
        with app.app_context(), session_scope() as session:
            steps: list = []
            seen = statements_during(app, lambda: steps.extend(waiting_steps(session, days)))
        return len(steps), len(seen)

    flow.to_review()
    steps_of_one, statements_of_one = statements_of_the_scan()
    flow.to_review()
    flow.to_review()
    steps_of_three, statements_of_three = statements_of_the_scan()
    assert steps_of_three == 3 * steps_of_one == 6  # each Nation's review, of each request
    assert statements_of_three == statements_of_one


def test_after_a_batch_is_committed_the_scan_reads_the_rest_of_its_chunk_again_at_once(app, flow):
    """The reminders job commits between batches (portal/jobs/batches.py), which expires
    what the scan had read: the rest of the chunk is read again in one go, not one request
    and its tracks at a time, and a request that moved on meanwhile is left out."""
    refs = [flow.to_review() for _ in range(3)]
    days = app.config.get("REMIND_SCREENING_DAYS")
    with app.app_context(), session_scope() as session:
        fresh = statements_during(app, lambda: list(waiting_steps(session, days)))
        session.commit()
        steps = waiting_steps(session, days)
        assert next(steps).request.ref == refs[0]  # its first Nation's review
        session.commit()  # a batch ends here
        assert flow.do("researcher", "withdraw", refs[1]) == "withdrawn"  # meanwhile
        rest: list = []
        seen = statements_during(app, lambda: rest.extend(steps))
        assert [step.request.ref for step in rest] == [refs[0], refs[2], refs[2]]
    assert len(seen) < len(fresh), seen  # the rest of the chunk, its tracks and reviews
