"""Obligations: made from every Nation's conditions in the transaction of the last
signature, reported by the researcher, assessed by the Nation owed them (waived by its
representative only), and never changing a decision or the request's status."""

from datetime import date, timedelta

import pytest
from babel.dates import format_date
from sqlmodel import select

from portal.agreements.models import Agreement
from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Forbidden, NotFound, Refused, ValidationError
from portal.lifecycle.models import DueEvent, DueKind, ObligationState
from portal.requests.models import AccessRequest
from portal.reviews.due import add_months
from portal.reviews.models import Decision, NationTrack
from portal.workflow import commands as c

from obligated import KESTREL_STEWARD, SUMMARY, YEARLY


def _agreement(app, ref: str) -> Agreement:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        agreement = session.exec(select(Agreement).where(Agreement.request_id == request.id)).one()
        session.expunge(agreement)
        return agreement


def _decisions_and_tracks(app, ref: str) -> tuple:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        decisions = session.exec(select(Decision).where(Decision.request_id == request.id))
        tracks = session.exec(select(NationTrack).where(NationTrack.request_id == request.id))
        return (
            request.status.value,
            sorted((d.nation_id, d.outcome.value, str(d.conditions)) for d in decisions),
            sorted((t.nation_id, t.status.value) for t in tracks),
        )


def test_the_last_signature_makes_every_condition_an_obligation_with_its_due(app, owed):
    flow = owed.flow
    ref = flow.approved(cedar_conditions=["return_or_destroy"])
    flow.do("researcher", "sign", ref)
    flow.do("cedar_rep", "sign", ref)
    assert owed.obligations(ref) == {}, "nothing is owed before access begins"

    ref = owed.active(heron_dues={SUMMARY: "2027-06-30"})
    agreement = _agreement(app, ref)
    found = owed.obligations(ref)
    assert set(found) == {
        "community_output_review", "return_or_destroy", YEARLY, "aggregate_only", SUMMARY,
    }  # fmt: skip
    review = found["community_output_review"]
    assert (review.due_kind, review.due_event, review.next_due) == (
        DueKind.EVENT, DueEvent.BEFORE_PUBLICATION, None,
    )  # fmt: skip
    end = found["return_or_destroy"]
    assert (end.due_event, end.next_due) == (DueEvent.AT_END, agreement.term_end)
    yearly = found[YEARLY]
    assert (yearly.due_kind, yearly.period_months) == (DueKind.PERIOD, 12)
    assert yearly.next_due == add_months(agreement.term_start, 12)
    assert found["aggregate_only"].due_event == DueEvent.AT_END, "a standard one without a due"
    assert (found[SUMMARY].due_kind, found[SUMMARY].next_due) == (DueKind.DATE, date(2027, 6, 30))
    assert all(o.state == ObligationState.OPEN for o in found.values())
    assert {o.source for o in found.values()} >= {"custom", "aggregate_only"}
    with app.app_context(), session_scope() as session:
        signed = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "agreement.signed")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert signed.details["activated"] and signed.details["obligations"] == 5


def test_a_due_the_representative_gives_must_be_one_and_name_a_condition(owed):
    flow = owed.flow
    ref = flow.reviewed()
    for dues in ({"aggregate_only": "someday"}, {"no_linkage": "at_end"}):
        with pytest.raises(ValidationError) as refused:
            flow.do(
                "cedar_rep", "decide", ref, "red-cedar", conditions=["aggregate_only"], dues=dues
            )
        assert "dues" in refused.value.errors
    for condition in ("Share it | due: at_end", "Share it\nand keep it"):  # the form's syntax
        with pytest.raises(ValidationError, match="A condition is one line"):
            flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=[condition])
    with pytest.raises(ValidationError, match="2020-01-01 has passed"):  # overdue at once
        flow.do(
            "cedar_rep", "decide", ref, "red-cedar", conditions=["aggregate_only"],
            dues={"aggregate_only": "2020-01-01"},
        )  # fmt: skip
    assert flow.status(ref) == "under_review"


def test_report_then_assess_and_a_periodic_one_opens_again(app, owed):
    ref = owed.active(retention_days=730)  # a term of two years: a second year owed
    before = _decisions_and_tracks(app, ref)
    assert owed.report("researcher", ref, "return_or_destroy", "Destroyed; attestation sent.")
    assert owed.obligations(ref)["return_or_destroy"].state == ObligationState.REPORTED
    owed.assess("cedar_steward1", ref, "return_or_destroy", "met")
    assert owed.obligations(ref)["return_or_destroy"].state == ObligationState.MET

    due = date.today() + timedelta(days=10)  # the first year's report is taken now
    owed.set_due(ref, YEARLY, due)
    owed.report("researcher", ref, YEARLY, "This year's report to the council.")
    owed.assess("cedar_rep", ref, YEARLY, "met", comment="Received at the council.")
    yearly = owed.obligations(ref)[YEARLY]
    assert (yearly.state, yearly.next_due) == (ObligationState.OPEN, add_months(due, 12))

    owed.report("researcher", ref, "aggregate_only", "Only aggregates released.")
    owed.assess("heron_steward", ref, "aggregate_only", "not_met", comment="A small cell.")
    assert owed.obligations(ref)["aggregate_only"].state == ObligationState.NOT_MET
    owed.report("researcher", ref, "aggregate_only", "The table was withdrawn.")  # again
    assert _decisions_and_tracks(app, ref) == before, "no decision, track or status moved"


def test_who_may_report_assess_and_waive(owed):
    ref = owed.active()
    key = "community_output_review"
    with pytest.raises(Refused):  # nothing reported yet: waive, not assess
        owed.assess("cedar_steward1", ref, key, "met")
    with pytest.raises(Forbidden):
        owed.assess("cedar_steward1", ref, key, "waived", comment="Not needed.")
    with pytest.raises(Forbidden):  # another Nation's obligation
        owed.assess("heron_rep", ref, key, "waived", comment="Not ours.")
    for who in ("researcher", "coordinator"):
        with pytest.raises(Forbidden):
            owed.assess(who, ref, key, "waived", comment="Let it go.")
    with pytest.raises(Forbidden):
        owed.report("cedar_rep", ref, key)
    for stranger in ("other_researcher", KESTREL_STEWARD):
        with pytest.raises(NotFound):
            owed.report(stranger, ref, key)
        with pytest.raises(NotFound):
            owed.assess(stranger, ref, key, "waived", comment="x")
    with pytest.raises(NotFound):  # an obligation of another request
        other = owed.active()
        owed.flow.perform("researcher", ref, c.ReportObligation(owed.id(other, key), "x"))
    with pytest.raises(ValidationError):
        owed.report("researcher", ref, "return_or_destroy", "  ")
    with pytest.raises(ValidationError):
        owed.assess("cedar_rep", ref, key, "waived")  # a waiver says why
    owed.assess("cedar_rep", ref, key, "waived", comment="The council reviewed it already.")
    assert owed.obligations(ref)[key].state == ObligationState.WAIVED
    with pytest.raises(Refused):
        owed.report("researcher", ref, key)
    assert owed.flow.status(ref) == "active"


@pytest.mark.parametrize(
    ("who", "action", "nation"),
    [("cedar_rep", "revoke", "red-cedar"), ("researcher", "close", None)],
)
def test_an_early_end_makes_what_was_due_at_the_end_due_now(owed, who, action, nation):
    """Revoked by a Nation or closed early by the researcher (found in a probe: closing
    left "at the end" on the term's last day, a year on), access has ended: the data is
    returned or destroyed now. The yearly report keeps its date."""
    ref = owed.active()
    yearly = owed.obligations(ref)[YEARLY].next_due
    owed.flow.do(who, action, ref, nation)
    assert owed.obligations(ref)["return_or_destroy"].next_due == date.today()
    assert owed.obligations(ref)[YEARLY].next_due == yearly


def test_a_revocation_makes_what_was_due_at_the_end_due_now(owed):
    ref = owed.active()
    owed.flow.do("cedar_rep", "revoke", ref, "red-cedar")
    assert owed.obligations(ref)["return_or_destroy"].next_due == date.today()
    owed.report("researcher", ref, "return_or_destroy", "Destroyed after the revocation.")
    assert owed.flow.status(ref) == "revoked"


def test_a_periodic_report_is_not_asked_for_a_period_after_the_term(app, owed):
    """A yearly report over a term of a year or less is owed once: the period its report
    ends begins on the term's last day (found in a probe: met, it opened again for a year
    after the term, and fell overdue on a request that had long expired)."""
    ref = owed.active(retention_days=20)  # a short term: its report's window is open
    term_end = _agreement(app, ref).term_end
    owed.set_due(ref, YEARLY, term_end)  # the first report falls due as the term ends
    owed.report("researcher", ref, YEARLY, "The year's report to the council.")
    owed.assess("cedar_rep", ref, YEARLY, "met", comment="Received.")
    yearly = owed.obligations(ref)[YEARLY]
    assert (yearly.state, yearly.next_due) == (ObligationState.MET, term_end)
    with pytest.raises(Refused):
        owed.report("researcher", ref, YEARLY, "Another year?")


def test_after_an_early_end_a_periodic_one_owes_only_the_period_in_progress(owed):
    """Closed early, access has ended today: the period that began before the end is
    still reported, on its date; none after it is asked."""
    ref = owed.active(retention_days=730)
    yesterday = date.today() - timedelta(days=1)
    owed.set_due(ref, YEARLY, yesterday)  # a year ended yesterday, a new one began
    owed.report("researcher", ref, YEARLY, "Last year's report.")
    owed.flow.do("researcher", "close", ref)
    owed.assess("cedar_rep", ref, YEARLY, "met", comment="Received.")
    yearly = owed.obligations(ref)[YEARLY]
    in_progress = add_months(yesterday, 12)
    assert (yearly.state, yearly.next_due) == (ObligationState.OPEN, in_progress)
    owed.report("researcher", ref, YEARLY, "The last, short year.")
    owed.assess("cedar_rep", ref, YEARLY, "met", comment="Received.")
    yearly = owed.obligations(ref)[YEARLY]
    assert (yearly.state, yearly.next_due) == (ObligationState.MET, in_progress)


def test_a_report_waits_in_the_queue_from_a_month_before_it_falls_due(app, owed):
    """Found in a browser: every obligation waited in the researcher's queue from the
    first day, a year before the term's end. Now one due on a date waits from 30 days
    before; one due before publication waits on the output, not here; one found not
    met waits at once."""
    from portal.workflow.queues import queues_for

    def waiting() -> list[str]:
        with app.app_context(), session_scope() as session:
            queues = {q.key: q for q in queues_for(session, owed.flow.user(session, "researcher"))}
            return [item.request.ref for item in queues["report"].items]

    ref = owed.active()
    assert waiting() == [], "nothing falls due within a month"
    owed.set_due(ref, YEARLY, date.today() + timedelta(days=31))
    assert waiting() == []
    owed.set_due(ref, YEARLY, date.today() + timedelta(days=29))
    assert waiting() == [ref]
    owed.report("researcher", ref, YEARLY, "Early.")
    assert waiting() == []
    owed.report("researcher", ref, "aggregate_only", "Aggregates only.")
    owed.assess("heron_steward", ref, "aggregate_only", "not_met", comment="A small cell.")
    assert waiting() == [ref], "owed again at once"


def test_a_periodic_report_is_taken_only_once_its_periods_window_is_open(app, owed, api):
    """Found in a browser walk: a yearly report made in the first week of access was
    taken and, found met, counted for the whole year (the next fell due a year on). A
    periodic report counts for the period in which it falls due, so it is taken from 30
    days before that (when it starts waiting in the queue), or once access has ended; the
    report queue, the request page, the report page and the API agree."""
    from helpers import sign_in

    ref = owed.active(retention_days=730)
    yearly = owed.obligations(ref)[YEARLY]
    opens = yearly.next_due - timedelta(days=30)
    with pytest.raises(Refused) as refused:
        owed.report("researcher", ref, YEARLY, "Our first week's report.")
    assert [rule.rule for rule in refused.value.blocked_by] == ["report_window"]
    assert opens.isoformat() in str(refused.value)
    assert owed.obligations(ref)[YEARLY].state == ObligationState.OPEN, "nothing written"
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}").text
    assert f"/obligations/{yearly.id}/report" not in page
    assert f"Its report is taken from {format_date(opens, 'medium', locale='en_CA')}" in page
    assert client.get(f"/requests/{ref}/obligations/{yearly.id}/report").status_code == 409
    body = api.get("researcher", f"/requests/{ref}").json
    reports = {
        a["obligation"] for a in body["allowed_actions"] if a["action"] == "report_obligation"
    }
    assert yearly.id not in reports and owed.id(ref, "return_or_destroy") in reports
    (shown,) = [o for o in body["obligations"] if o["id"] == yearly.id]
    assert (shown["state"], shown["overdue"]) == ("open", False)

    owed.set_due(ref, YEARLY, date.today() + timedelta(days=29))  # its window is open
    assert f"/obligations/{yearly.id}/report" in client.get(f"/requests/{ref}").text
    owed.report("researcher", ref, YEARLY, "The year's report.")
    assert owed.obligations(ref)[YEARLY].state == ObligationState.REPORTED


def test_once_access_ended_the_last_periods_report_is_taken_at_once(owed):
    ref = owed.active(retention_days=730)
    # Half the year ran before the end (a period that begins on the day access ends owes
    # nothing: tests/lifecycle/test_period_after_the_end.py).
    owed.set_due(ref, YEARLY, date.today() + timedelta(days=180))
    with pytest.raises(Refused):
        owed.report("researcher", ref, YEARLY, "Too early.")
    owed.flow.do("researcher", "close", ref)
    owed.report("researcher", ref, YEARLY, "The last, short year.")
    assert owed.obligations(ref)[YEARLY].state == ObligationState.REPORTED
