"""What a new edition does to the obligations of the one it replaces: what the old edition
still asked of a Nation that decided afresh is superseded by that Nation's new conditions
(owed once, not twice, and never overdue on the old term's dates); what was met or waived
stays as it was; and a Nation the new edition no longer includes keeps its obligations,
its data's return or destruction falling due at once. SQLite and PostgreSQL."""

from datetime import date, timedelta

import pytest

from portal.db import session_scope
from portal.errors import Refused
from portal.lifecycle import service as lifecycle
from portal.workflow import commands as c

from helpers import sign_in
from obligated import SUMMARY, YEARLY
from renewals import (
    SIGNERS,
    editions,
    events,
    mail_with_bodies,
    obligation_rows,
    renewed_with,
    reviewed_afresh,
)


def overdue_on(app, day: date) -> list[tuple[str, str]]:
    with app.app_context(), session_scope() as session:
        return [(o.nation.slug, o.obligation.source) for o in lifecycle.overdue(session, day)]


def test_a_renewal_supersedes_what_the_old_edition_still_asked(app, owed, api):
    flow = owed.flow
    ref = owed.active()  # Red Cedar: review, return or destroy, yearly; Blue Heron: two
    owed.report("researcher", ref, SUMMARY)
    owed.assess("heron_steward", ref, SUMMARY, "met")
    owed.report("researcher", ref, "aggregate_only")  # reported, not assessed yet
    owed.report("researcher", ref, "return_or_destroy")
    owed.assess("cedar_steward1", ref, "return_or_destroy", "not_met", comment="Not yet.")
    before = {(n, key): (state, i) for n, key, state, _due, i in obligation_rows(app, ref)}

    renewed_with(owed, ref, cedar=["return_or_destroy"])

    _old, new = editions(app, ref)
    found = obligation_rows(app, ref)
    assert [(n, key, state) for n, key, state, *_ in found] == [
        ("red-cedar", "community_output_review", "superseded"),
        ("red-cedar", "return_or_destroy", "superseded"),  # was not met
        ("red-cedar", YEARLY, "superseded"),
        ("blue-heron", "aggregate_only", "superseded"),  # was reported
        ("blue-heron", SUMMARY, "met"),  # settled: stays as it was
        ("red-cedar", "return_or_destroy", "open"),  # the new edition's, owed once
    ]
    assert found[-1][3] == new.term_end
    in_force = events(app, ref)[-1]
    assert in_force.action == "amendment.in_force"
    assert in_force.details["obligations"] == 1
    assert in_force.details["obligations_superseded"] == 4
    [(_subject, told)] = [
        mail for mail in mail_with_bodies(app, "researcher@example.org") if "new edition" in mail[0]
    ]
    assert "the request's page lists the obligations owed now" in " ".join(told.split())
    # Long after every date: only what the edition in force asks can be overdue.
    assert overdue_on(app, new.term_end + timedelta(days=400)) == [
        ("red-cedar", "return_or_destroy")
    ]

    # Nothing can be done on a superseded obligation, and a refusal writes nothing.
    old_id = before[("red-cedar", "return_or_destroy")][1]
    with pytest.raises(Refused, match="A later edition's conditions replaced this obligation"):
        flow.perform("researcher", ref, c.ReportObligation(old_id, "Done now."))
    with pytest.raises(Refused):
        flow.perform("cedar_rep", ref, c.AssessObligation(old_id, "waived", comment="Let go."))
    reported_id = before[("blue-heron", "aggregate_only")][1]
    with pytest.raises(Refused):
        flow.perform("heron_steward", ref, c.AssessObligation(reported_id, "met"))
    assert obligation_rows(app, ref) == found

    # The page and the API say so, and offer nothing on it.
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}").text
    assert "Superseded by a later edition" in page
    assert f"/obligations/{old_id}/report" not in page
    shown = api.get("researcher", f"/requests/{ref}")
    states = {o["id"]: o["state"] for o in shown.json["obligations"]}
    assert states[old_id] == "superseded" and states[found[-1][4]] == "open"
    refused = api.act("researcher", ref, "report_obligation", obligation=old_id, text="Done.")
    assert refused.status_code == 409 and "replaced this obligation" in refused.json["detail"]
    assert obligation_rows(app, ref) == found


def test_a_nation_an_amendment_drops_keeps_its_obligations_now_due(app, owed):
    flow = owed.flow
    ref = owed.active()
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    reviewed_afresh(flow, ref, heron=False)
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=["return_or_destroy"])
    for person, nation in SIGNERS[:2]:
        flow.do(person, "sign", ref, nation)

    today = date.today()
    found = [(n, key, state, due) for n, key, state, due, _i in obligation_rows(app, ref)]
    _old, new = editions(app, ref)
    assert found == [
        ("red-cedar", "community_output_review", "superseded", None),
        ("red-cedar", "return_or_destroy", "superseded", found[1][3]),
        ("red-cedar", YEARLY, "superseded", found[2][3]),
        # Blue Heron's data left the request: returning or destroying it is due now.
        ("blue-heron", "aggregate_only", "open", today),
        ("blue-heron", SUMMARY, "open", today),
        ("red-cedar", "return_or_destroy", "open", new.term_end),
    ]
    assert overdue_on(app, today + timedelta(days=1)) == [
        ("blue-heron", "aggregate_only"),
        ("blue-heron", "custom"),
    ]
