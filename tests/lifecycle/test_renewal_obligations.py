"""What a new edition does to the obligations of the one it replaces: what the old edition
still asked of a Nation that decided afresh is superseded by that Nation's new conditions
(owed once, not twice, and never overdue on the old term's dates); what was met or waived
stays as it was; and a Nation the new edition no longer includes keeps its obligations,
its data's return or destruction falling due at once. SQLite and PostgreSQL."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from portal.db import session_scope
from portal.errors import Refused
from portal.lifecycle import service as lifecycle
from portal.lifecycle.models import Obligation
from portal.registry.models import Nation
from portal.reviews.due import add_months
from portal.reviews.models import Decision
from portal.workflow import commands as c

from helpers import choose_french, csrf_token, sign_in
from obligated import SUMMARY, YEARLY
from renewals import (
    SIGNERS,
    editions,
    events,
    mail_with_bodies,
    obligation_rows,
    renewed_with,
    request_of,
    reviewed_afresh,
)


def overdue_on(app, day: date) -> list[tuple[str, str]]:
    with app.app_context(), session_scope() as session:
        return [(o.nation.slug, o.obligation.source) for o in lifecycle.overdue(session, day)]


def test_a_renewal_supersedes_what_was_not_yet_due_and_keeps_what_is_owed(app, owed, api):
    flow = owed.flow
    ref = owed.active()  # Red Cedar: review, return or destroy, yearly; Blue Heron: two
    owed.report("researcher", ref, SUMMARY)
    owed.assess("heron_steward", ref, SUMMARY, "met")
    owed.report("researcher", ref, "aggregate_only")  # reported, not assessed yet
    owed.report("researcher", ref, "return_or_destroy")
    owed.assess("cedar_steward1", ref, "return_or_destroy", "not_met", comment="Not yet.")
    owed.set_due(ref, YEARLY, date.today() - timedelta(days=10))  # a report overdue
    before = {(row.nation, row.key): row.id for row in obligation_rows(app, ref)}

    renewed_with(owed, ref, cedar=["return_or_destroy"])

    _old, new = editions(app, ref)
    found = obligation_rows(app, ref)
    assert [(row.nation, row.key, row.state, row.superseded_by) for row in found] == [
        ("red-cedar", "community_output_review", "superseded", 2),
        ("red-cedar", "return_or_destroy", "superseded", 2),  # not met, not due yet
        ("red-cedar", YEARLY, "open", 2),  # overdue: still owed, once
        ("blue-heron", "aggregate_only", "reported", 2),  # the Nation may still assess it
        ("blue-heron", SUMMARY, "met", None),  # settled: stays as it was
        ("red-cedar", "return_or_destroy", "open", None),  # the new edition's
    ]
    assert found[-1].next_due == new.term_end
    in_force = events(app, ref)[-1]
    assert in_force.action == "amendment.in_force"
    assert in_force.details["obligations"] == 1
    assert in_force.details["obligations_superseded"] == 2
    [(_subject, told)] = [
        mail for mail in mail_with_bodies(app, "researcher@example.org") if "new edition" in mail[0]
    ]
    assert "the request's page lists the obligations owed now" in " ".join(told.split())
    # Long after every date: the overdue report and what the edition in force asks.
    assert overdue_on(app, new.term_end + timedelta(days=400)) == [
        ("red-cedar", "custom"),
        ("red-cedar", "return_or_destroy"),
    ]

    # Nothing can be done on a superseded obligation, and a refusal writes nothing.
    old_id = before[("red-cedar", "return_or_destroy")]
    with pytest.raises(Refused, match="A later edition's conditions replaced this obligation"):
        flow.perform("researcher", ref, c.ReportObligation(old_id, "Done now."))
    with pytest.raises(Refused):
        flow.perform("cedar_rep", ref, c.AssessObligation(old_id, "waived", comment="Let go."))
    assert obligation_rows(app, ref) == found

    # The page and the API say so, and offer nothing on it.
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}").text
    assert "2 obligations superseded by a later edition's conditions" in page
    assert page.count(f'id="obligation-{old_id}"') == 1
    assert "Superseded by edition 2 of the agreement before it fell due" in page
    assert "this report is still owed, once, and nothing after it" in page
    assert f"/obligations/{old_id}/report" not in page
    assert f"/obligations/{before[('red-cedar', YEARLY)]}/report" in page
    shown = api.get("researcher", f"/requests/{ref}")
    states = {o["id"]: (o["state"], o["superseded_by"]) for o in shown.json["obligations"]}
    assert states[old_id] == ("superseded", 2) and states[found[-1].id] == ("open", None)
    refused = api.act("researcher", ref, "report_obligation", obligation=old_id, text="Done.")
    assert refused.status_code == 409 and "replaced this obligation" in refused.json["detail"]
    assert obligation_rows(app, ref) == found

    # What is still owed is owed once: met, a periodic one does not open again; a report
    # made before it fell due and found not met leaves nothing owed under the old edition.
    owed.assess("heron_steward", ref, "aggregate_only", "not_met", comment="Too coarse.")
    _subject, told = mail_with_bodies(app, "researcher@example.org")[-1]
    assert "not met. A later edition's conditions replaced it before it fell due" in " ".join(
        told.split()
    )
    flow.perform("researcher", ref, c.ReportObligation(before[("red-cedar", YEARLY)], "Sent."))
    flow.perform("cedar_steward1", ref, c.AssessObligation(before[("red-cedar", YEARLY)], "met"))
    rows = obligation_rows(app, ref)
    states = {(row.nation, row.key, row.superseded_by): row.state for row in rows}
    assert states[("red-cedar", YEARLY, 2)] == "met"
    assert states[("blue-heron", "aggregate_only", 2)] == "superseded"
    assert overdue_on(app, new.term_end + timedelta(days=400)) == [
        ("red-cedar", "return_or_destroy")
    ]


def test_a_periodic_condition_kept_keeps_its_schedule(app, owed):
    ref = owed.active()  # Red Cedar: a report every 12 months, from the term's start
    soon = date.today() + timedelta(days=30)
    owed.set_due(ref, YEARLY, soon)
    renewed_with(owed, ref, cedar=[YEARLY], dues={YEARLY: "every 12 months"})
    kept = obligation_rows(app, ref)[-1]
    assert (kept.key, kept.state, kept.next_due) == (YEARLY, "open", soon)  # not a year on

    renewed_with(owed, ref, cedar=[YEARLY], dues={YEARLY: "every 6 months"})
    found = [(row.key, row.state, row.next_due) for row in obligation_rows(app, ref)]
    assert found[-2:] == [
        (YEARLY, "superseded", soon),
        (YEARLY, "open", add_months(date.today(), 6)),  # another period: its own schedule
    ]


def test_a_one_off_condition_kept_is_not_asked_again(app, owed):
    """Blue Heron keeps its summary, due on a date: still owed, it goes on as the new
    edition's (found not met, it is owed again); once met, no edition asks for it again.
    Its "at the end" it asks afresh."""
    june = "2027-06-30"
    ref = owed.active(heron_dues={SUMMARY: june})
    owed.report("researcher", ref, SUMMARY)
    renewed_with(owed, ref, cedar=[], heron={SUMMARY: june, "aggregate_only": None})
    rows = obligation_rows(app, ref)
    heron = [(r.key, r.state, r.superseded_by) for r in rows if r.nation == "blue-heron"]
    assert heron == [
        ("aggregate_only", "superseded", 2),
        (SUMMARY, "reported", None),  # the same one goes on: not replaced
        ("aggregate_only", "open", None),
    ]
    owed.assess("heron_steward", ref, SUMMARY, "not_met", comment="Say more.")
    assert [r.state for r in obligation_rows(app, ref) if r.key == SUMMARY] == ["not_met"]
    owed.report("researcher", ref, SUMMARY)
    owed.assess("heron_steward", ref, SUMMARY, "met")
    renewed_with(owed, ref, cedar=[], heron={SUMMARY: june})
    assert [r.state for r in obligation_rows(app, ref) if r.key == SUMMARY] == ["met"]


def test_a_report_made_before_it_fell_due_then_found_not_met(app, owed):
    """Reported before they fell due, then replaced, then found not met: a one-off is
    left to the new edition's conditions (what counts is the day of the report, not of
    the assessment); a periodic one kept still owes its period's report."""
    ref = owed.active()
    early = date.today() - timedelta(days=20)
    owed.due_soon(ref, YEARLY)  # its report is taken now (then made as of ``early``)
    for key in ("return_or_destroy", YEARLY):
        owed.report("researcher", ref, key)
        with app.app_context(), session_scope() as session:
            row = session.get(Obligation, owed.id(ref, key))
            row.reported_at = datetime.combine(early, time(12), tzinfo=UTC)
            row.next_due = early + timedelta(days=10)  # due after the report, before today
    renewed_with(owed, ref, cedar=[YEARLY], dues={YEARLY: "every 12 months"})
    ids = {r.key: r.id for r in obligation_rows(app, ref) if r.superseded_by == 2}
    for key in ("return_or_destroy", YEARLY):
        owed.flow.perform(
            "cedar_steward1", ref, c.AssessObligation(ids[key], "not_met", comment="Thin.")
        )
    states = {r.id: r.state for r in obligation_rows(app, ref)}
    assert states[ids["return_or_destroy"]] == "superseded"
    assert states[ids[YEARLY]] == "not_met"


def test_a_nation_an_amendment_drops_keeps_its_obligations_now_due(app, owed):
    flow = owed.flow
    ref = owed.active(heron_dues={SUMMARY: "2027-06-30"})
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    reviewed_afresh(flow, ref, heron=False)
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=["return_or_destroy"])
    for person, nation in SIGNERS[:2]:
        flow.do(person, "sign", ref, nation)

    today = date.today()
    found = [(row.nation, row.key, row.state, row.next_due) for row in obligation_rows(app, ref)]
    _old, new = editions(app, ref)
    assert found == [
        ("red-cedar", "community_output_review", "superseded", None),
        ("red-cedar", "return_or_destroy", "superseded", found[1][3]),
        ("red-cedar", YEARLY, "superseded", found[2][3]),
        # Blue Heron's data left the request: returning or destroying it is due now;
        # what falls due on a date of its own still does.
        ("blue-heron", "aggregate_only", "open", today),
        ("blue-heron", SUMMARY, "open", date(2027, 6, 30)),
        ("red-cedar", "return_or_destroy", "open", new.term_end),
    ]
    assert overdue_on(app, today + timedelta(days=1)) == [("blue-heron", "aggregate_only")]


def test_the_decide_page_of_a_renewal_starts_from_the_conditions_in_force(app, owed):
    flow = owed.flow
    given = {YEARLY: "every 12 months", "community_output_review": "2027-06-30"}
    ref = owed.active(cedar_dues=given)  # a standard condition with a due of its own
    first = flow.reviewed()  # a first decision: nothing in force to start from
    cedar = app.test_client()
    sign_in(cedar, "rep.cedar@example.org")
    fresh = cedar.get(f"/requests/{first}/decide/red-cedar")
    assert fresh.status_code == 200 and 'name="standard_conditions"' in fresh.text
    assert "checked" not in fresh.text and "These conditions replace" not in fresh.text

    flow.do("researcher", "renew", ref)
    reviewed_afresh(flow, ref)
    page = cedar.get(f"/requests/{ref}/decide/red-cedar").text
    ticked = re.findall(r'value="(\w+)" checked', page) + re.findall(
        r'checked[^>]*value="(\w+)"', page
    )
    assert sorted(set(ticked)) == ["return_or_destroy"]
    lines = f"community_output_review | due: 2027-06-30\n{YEARLY} | due: every 12 months"
    assert f"{lines}</textarea>" in page
    assert "These conditions replace those of your Nation" in page
    steward = app.test_client()
    sign_in(steward, "s1.cedar@example.org")
    assert steward.get(f"/requests/{ref}/decide/red-cedar").status_code == 403

    # Approved as the page started: the same conditions, with the same dues, owed anew.
    form = {
        "csrf_token": csrf_token(page),
        "outcome": "approve",
        "standard_conditions": ["return_or_destroy"],
        "custom_conditions": lines,
        "reason": "",
    }
    assert cedar.post(f"/requests/{ref}/decide/red-cedar", data=form).status_code == 302
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        decisions = session.exec(
            select(Decision)
            .where(Decision.request_id == request.id, Decision.nation_id == nation_id(session))
            .order_by(Decision.id)
        ).all()

        def by_code(decision):
            return sorted(decision.conditions, key=lambda c: (c["code"], c["text"]))

        assert by_code(decisions[-1]) == by_code(decisions[0])


def nation_id(session) -> int:
    return session.exec(select(Nation.id).where(Nation.slug == "red-cedar")).one()


def test_a_nation_an_amendment_brings_back_starts_from_nothing(app, owed):
    """Blue Heron's conditions of the first edition are not in force once an amendment
    dropped it: when a later one brings it back, its decide page starts empty."""
    flow = owed.flow
    ref = owed.active()
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    reviewed_afresh(flow, ref, heron=False)
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    for person, nation in SIGNERS[:2]:
        flow.do(person, "sign", ref, nation)
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health", "heron-schools"])
    reviewed_afresh(flow, ref)
    heron = app.test_client()
    sign_in(heron, "rep.heron@example.org")
    page = heron.get(f"/requests/{ref}/decide/blue-heron")
    assert page.status_code == 200 and 'name="standard_conditions"' in page.text
    assert "checked" not in page.text and SUMMARY not in page.text


def test_a_french_decide_page_spells_the_dues_in_french(app, owed):
    """Found in a browser: the French decide page asked for "| due: every 12 months" and
    started a renewal from English lines. It now spells a due in French, reads either
    language's spelling, and the decision keeps the one spelling the API gives."""
    flow = owed.flow
    given = {YEARLY: "every 12 months", "community_output_review": "2027-06-30"}
    ref = owed.active(cedar_dues=given)
    flow.do("researcher", "renew", ref)
    reviewed_afresh(flow, ref)
    cedar = app.test_client()
    sign_in(cedar, "rep.cedar@example.org")
    choose_french(cedar)
    path = f"/requests/{ref}/decide/red-cedar"
    page = cedar.get(path).text
    lines = (
        f"community_output_review | échéance : 2027-06-30\n{YEARLY} | échéance : tous les 12 mois"
    )
    assert f"{lines}</textarea>" in page
    assert "tous les 12 mois" in page and "à_la_fin" in page
    assert "every 12 months" not in page and "at_end" not in page and "| due:" not in page

    def decide(custom: str):
        form = {
            "csrf_token": csrf_token(page),
            "outcome": "approve",
            "standard_conditions": ["return_or_destroy"],
            "custom_conditions": custom,
            "reason": "",
        }
        return cedar.post(path, data=form)

    wrong = decide(f"{YEARLY} | échéance : un jour")
    assert wrong.status_code == 422 and "« tous les 12 mois »" in wrong.text
    assert f"{YEARLY} | échéance : un jour" in wrong.text, "what was typed is kept"
    more = f"{lines}\nUn résumé pour la communauté | échéance : avant_publication"
    assert decide(more).status_code == 302
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        last = session.exec(
            select(Decision)
            .where(Decision.request_id == request.id, Decision.nation_id == nation_id(session))
            .order_by(Decision.id.desc())
        ).first()
        dues = {
            c["code"] if c["code"] != "custom" else c["text"]: c.get("due") for c in last.conditions
        }
    assert dues == {
        "return_or_destroy": None,
        "community_output_review": "2027-06-30",
        YEARLY: "every 12 months",
        "Un résumé pour la communauté": "before_publication",
    }
