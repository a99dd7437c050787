"""Outputs before publication (issue 11): submitted by the researcher of an active
request, reviewed by each Nation that asked (its own quorum, conflicts and the requesting
side excluded), approved or refused by its representative, each Nation alone. Driven
through perform() as the pages and the API do; the world is a real database."""

import pytest
from sqlmodel import func, select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Forbidden, NotFound, Refused, ValidationError
from portal.lifecycle.outputs import store
from portal.lifecycle.outputs.models import OutputTrack, ResearchOutput
from portal.registry.service import get_nation
from portal.workflow import commands as c

CSV = b"Region,Girls,Boys,Total\nNorth,12,3,15\nSouth,20,25,45\nTotal,32,28,60\n"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
CEDAR, HERON = "red-cedar", "blue-heron"


def submit(flow, ref, data=CSV, filename="table.csv", who="researcher", title="Table 1"):
    command = c.SubmitOutput(title, "Journal of Fictional Studies", filename, data)
    flow.perform(who, ref, command)
    with flow.app.app_context(), session_scope() as session:
        return session.exec(select(func.max(ResearchOutput.id))).one()


def output(flow, output_id):
    with flow.app.app_context(), session_scope() as session:
        found = session.get(ResearchOutput, output_id)
        tracks = session.exec(select(OutputTrack).where(OutputTrack.output_id == output_id))
        return found.status.value, {t.nation_id: t.status.value for t in tracks}


def status(flow, output_id) -> str:
    return output(flow, output_id)[0]


def counts(flow) -> tuple[int, int]:
    with flow.app.app_context(), session_scope() as session:
        outputs = session.exec(select(func.count()).select_from(ResearchOutput)).one()
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        return outputs, events


def review(flow, who, ref, output_id, nation, **body):
    body = {"recommendation": "approve", **body}
    return flow.perform(who, ref, c.ReviewOutput(output_id, nation, **body))


def decide(flow, who, ref, output_id, nation, outcome="approve", reason=""):
    return flow.perform(who, ref, c.DecideOutput(output_id, nation, outcome, reason))


def clear_for(flow, ref, output_id, nation):
    """The Nation's quorum of approving reviews, then its approval."""
    if nation == CEDAR:
        review(flow, "cedar_steward1", ref, output_id, CEDAR)
        review(flow, "cedar_steward2", ref, output_id, CEDAR)
        decide(flow, "cedar_rep", ref, output_id, CEDAR)
    else:
        review(flow, "heron_steward", ref, output_id, HERON)
        decide(flow, "heron_rep", ref, output_id, HERON)


def set_profile(app, slug, **values):
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, slug)
        for name, value in values.items():
            setattr(nation, name, value)
        session.add(nation)


def test_two_nations_asked_one_refusal_refuses_and_a_second_output_clears_when_both_approve(
    flow,
):
    ref = flow.active()
    first = submit(flow, ref)
    assert status(flow, first) == "in_review"
    clear_for(flow, ref, first, HERON)
    assert status(flow, first) == "in_review", "one Nation's approval is not enough"
    review(flow, "cedar_steward1", ref, first, CEDAR, recommendation="refuse", comment="Cells.")
    review(flow, "cedar_steward2", ref, first, CEDAR)
    decide(flow, "cedar_rep", ref, first, CEDAR, "refuse", "North's boys are identifiable.")
    assert status(flow, first) == "refused"
    with pytest.raises(Refused):  # closed for every Nation
        review(flow, "cedar_steward3", ref, first, CEDAR)

    second = submit(flow, ref, title="Table 1, small cells suppressed")
    clear_for(flow, ref, second, CEDAR)
    assert status(flow, second) == "in_review"
    clear_for(flow, ref, second, HERON)
    assert status(flow, second) == "cleared"
    assert flow.status(ref) == "active", "an output never changes the request's state"


def test_the_quorum_counts_designated_stewards_without_a_conflict(flow):
    ref = flow.active()
    out = submit(flow, ref)
    review(flow, "cedar_steward1", ref, out, CEDAR)
    review(flow, "cedar_steward2", ref, out, CEDAR, conflict_of_interest=True, recommendation=None)
    with pytest.raises(Refused) as blocked:
        decide(flow, "cedar_rep", ref, out, CEDAR)
    assert [r.rule for r in blocked.value.blocked_by] == ["output_quorum_met"]
    assert "requires 2 steward reviews of this output; 1 recorded" in blocked.value.message
    with pytest.raises(Refused) as twice:
        review(flow, "cedar_steward1", ref, out, CEDAR)
    assert twice.value.blocked_by[0].rule == "one_review_per_steward"
    review(flow, "cedar_steward3", ref, out, CEDAR)
    decide(flow, "cedar_rep", ref, out, CEDAR)
    assert output(flow, out)[1] and status(flow, out) == "in_review"  # Heron still to decide


def test_refusal_needs_no_quorum_but_a_reason(flow):
    ref = flow.active()
    out = submit(flow, ref)
    with pytest.raises(ValidationError) as no_reason:
        decide(flow, "heron_rep", ref, out, HERON, "refuse", "")
    assert list(no_reason.value.errors) == ["reason"]
    decide(flow, "heron_rep", ref, out, HERON, "refuse", "Not before the council reads it.")
    assert status(flow, out) == "refused"


def test_no_nation_asking_clears_it_at_once_and_a_condition_asks_as_a_profile_does(app, flow):
    set_profile(app, CEDAR, output_review_required=False)
    set_profile(app, HERON, output_review_required=False)
    ref = flow.active()
    out = submit(flow, ref, PDF, "paper.pdf")
    assert output(flow, out) == ("cleared", {})
    with app.app_context(), session_scope() as session:
        event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "output.submitted" and event.details["cleared"] is True
        assert event.details["media_type"] == "application/pdf"

    asked = flow.active(heron_conditions=["community_output_review"])
    out = submit(flow, asked)
    with app.app_context(), session_scope() as session:
        heron = get_nation(session, HERON)
        track = session.exec(select(OutputTrack).where(OutputTrack.output_id == out)).one()
        assert (track.nation_id, track.asked_by) == (heron.id, "condition")
    clear_for(flow, asked, out, HERON)
    assert status(flow, out) == "cleared"


def test_each_nation_reads_the_small_cells_at_its_own_threshold(app, flow):
    set_profile(app, HERON, small_cell_threshold=20)
    ref = flow.active()
    out = submit(flow, ref)
    with app.app_context(), session_scope() as session:
        found = {
            t.nation_id: [(c["row_label"], c["column_label"]) for c in t.findings["flagged"]]
            for t in session.exec(select(OutputTrack).where(OutputTrack.output_id == out))
        }
        cedar, heron = get_nation(session, CEDAR).id, get_nation(session, HERON).id
    assert found[cedar] == [("North", "Boys")]
    assert found[heron] == [("North", "Girls"), ("North", "Boys"), ("North", "Total")]


def test_only_the_researcher_of_an_active_request_submits(flow):
    ref = flow.approved()
    with pytest.raises(Refused) as not_yet:
        submit(flow, ref)
    assert "only when it is active" in not_yet.value.message
    ref = flow.active()
    with pytest.raises(Forbidden):
        submit(flow, ref, who="coordinator")
    with pytest.raises(NotFound):
        submit(flow, ref, who="other_researcher")


@pytest.mark.parametrize(
    ("data", "name", "field"),
    [
        (PDF, "table.csv", "file"),  # a PDF under a .csv name
        (b"Region,Count\nNorth,1,2\n", "table.csv", "file"),  # ragged
        (b"", "empty.txt", "file"),
        (CSV, "x" * 300 + ".csv", "filename"),
    ],
)
def test_bad_files_are_refused_naming_the_field_and_nothing_is_written(flow, data, name, field):
    ref = flow.active()
    before = counts(flow)
    with pytest.raises(ValidationError) as refused:
        submit(flow, ref, data, name)
    assert field in refused.value.errors
    assert counts(flow) == before


def test_the_size_limit_comes_from_the_configuration(app, flow):
    ref = flow.active()
    app.config["OUTPUT_MAX_BYTES"] = 64
    large_file = CSV + b"East,1,1,2\n" * 5
    with pytest.raises(ValidationError) as large:
        submit(flow, ref, large_file)
    expected = f"The file is {len(large_file)} bytes; an output may be at most 64 bytes."
    assert large.value.errors["file"] == expected
    submit(flow, ref, b"Region,Count\nNorth,12\n")


def test_the_stored_bytes_are_the_submitted_ones(app, flow):
    ref = flow.active()
    out = submit(flow, ref)
    with app.app_context(), session_scope() as session:
        row = session.get(ResearchOutput, out)
        assert store.get(session, row.sha256) == CSV
        assert (row.media_type, row.size) == ("text/csv", len(CSV))


def test_no_one_judges_outputs_of_their_own_request_nor_for_another_nation(app, flow, make_user):
    team_steward = "team.steward@example.org"
    make_user(team_steward, ("steward", CEDAR))
    team = [{"name": "Stevie", "email": team_steward, "role": "Liaison"}]
    ref = flow.active(team=team)
    out = submit(flow, ref)
    with pytest.raises(Forbidden):  # invariant 10
        review(flow, team_steward, ref, out, CEDAR)
    with pytest.raises(Forbidden):
        review(flow, "heron_steward", ref, out, CEDAR)
    with pytest.raises(Forbidden):
        decide(flow, "heron_rep", ref, out, CEDAR)
    with pytest.raises(Forbidden):  # stewards review, representatives decide
        review(flow, "cedar_rep", ref, out, CEDAR)
    with pytest.raises(NotFound):  # another request's output
        other = flow.active()
        review(flow, "cedar_steward1", other, out, CEDAR)


def test_every_step_is_one_event_in_the_nations_record(app, flow):
    ref = flow.active()
    with app.app_context(), session_scope() as session:
        before = session.exec(select(func.max(AuditEvent.id))).one()
    out = submit(flow, ref)
    review(flow, "heron_steward", ref, out, HERON)
    decide(flow, "heron_rep", ref, out, HERON)
    with app.app_context(), session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.id > before)).all()
        assert [e.action for e in events] == [
            "output.submitted",
            "output.reviewed",
            "output.approved",
        ]
        assert events[-1].details["status"] == "in_review"


def test_outputs_go_on_after_access_ends_until_the_request_is_closed(flow):
    """A Nation's review before publication binds after the end, as the obligations do:
    work drawn from the data is often published later. An output waiting when access
    ended is still judged, and a new one still submitted (found in a probe: after closing
    early one could be submitted, after an expiry or a revocation none, and one waiting
    stayed in review for good). Once every Nation acknowledged the destruction and the
    request is closed, nothing more is submitted."""
    ref = flow.active()
    waiting = submit(flow, ref)
    flow.do("researcher", "close", ref)
    later = submit(flow, ref, title="Table 2, written up after the end")
    for out in (waiting, later):
        clear_for(flow, ref, out, CEDAR)
        clear_for(flow, ref, out, HERON)
        assert status(flow, out) == "cleared"

    revoked = flow.active()
    waiting = submit(flow, revoked)
    flow.do("cedar_rep", "revoke", revoked, CEDAR)
    assert flow.status(revoked) == "revoked"
    decide(flow, "cedar_rep", revoked, waiting, CEDAR, "refuse", "Not after our revocation.")
    assert status(flow, waiting) == "refused"
    submit(flow, revoked, title="Table 3")

    closed = flow.attested()
    waiting = submit(flow, closed)
    flow.do("cedar_rep", "acknowledge_destruction", closed, CEDAR)
    flow.do("heron_rep", "acknowledge_destruction", closed, HERON)
    assert flow.status(closed) == "closed"
    before = counts(flow)
    with pytest.raises(Refused) as refused:
        submit(flow, closed)
    assert refused.value.blocked_by[0].rule == "state"
    assert counts(flow) == before
    # Found in a review: one submitted before the close stayed in review for good.
    clear_for(flow, closed, waiting, CEDAR)
    clear_for(flow, closed, waiting, HERON)
    assert status(flow, waiting) == "cleared"


def test_a_nation_still_open_on_a_refused_output_reads_as_no_longer_asked(app, flow):
    """Found in a browser: once Heron refused an output, Red Cedar's part, still open,
    read "Waiting for its representative's decision" on the output's page."""
    from helpers import sign_in

    ref = flow.active()
    out = submit(flow, ref)
    decide(flow, "heron_rep", ref, out, HERON, "refuse", "Not before the council reads it.")
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}/outputs/{out}").text
    assert "No longer asked: another Nation refused its publication." in page
    assert "Its stewards are reviewing" not in page
