"""Outputs once an amendment drops a Nation (invariant 11: a Nation dropped from a
request stops counting). Its open part in an output submitted while it was a party
ends when the new edition takes effect, and the Nations still party decide the output;
it keeps reading the outputs it was party to, never those submitted after it left.
Driven through perform() and the API as people would; the world is a real database."""

import pytest
from sqlmodel import select

from portal.db import session_scope
from portal.errors import ValidationError
from portal.lifecycle.outputs.models import OutputTrack, ResearchOutput
from portal.registry.models import Nation
from portal.registry.service import get_nation
from portal.workflow import commands as c

from renewals import events, reviewed_afresh

CSV = b"Region,Count\nNorth,40\nSouth,55\n"
CEDAR, HERON = "red-cedar", "blue-heron"


def submit(flow, ref: str, title: str) -> int:
    flow.perform("researcher", ref, c.SubmitOutput(title, "Journal (fictional)", "t.csv", CSV))
    with flow.app.app_context(), session_scope() as session:
        return max(session.exec(select(ResearchOutput.id)))


def clear_for_cedar(flow, ref: str, output_id: int) -> None:
    for steward in ("cedar_steward1", "cedar_steward2"):
        flow.perform(steward, ref, c.ReviewOutput(output_id, CEDAR, "approve"))
    flow.perform("cedar_rep", ref, c.DecideOutput(output_id, CEDAR, "approve", ""))


def parts(flow, output_id: int) -> tuple[str, dict[str, str]]:
    """The output's status, and each Nation's part, by slug."""
    with flow.app.app_context(), session_scope() as session:
        output = session.get(ResearchOutput, output_id)
        rows = session.exec(
            select(Nation.slug, OutputTrack.status)
            .join(Nation, Nation.id == OutputTrack.nation_id)
            .where(OutputTrack.output_id == output_id)
        )
        return output.status.value, {slug: status.value for slug, status in rows}


def drop_heron(flow, ref: str) -> None:
    """The amendment keeps Red Cedar's data only; its edition takes effect."""
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    reviewed_afresh(flow, ref, heron=False)
    flow.do("cedar_rep", "decide", ref, CEDAR)
    for person, nation in (("researcher", None), ("cedar_rep", CEDAR)):
        flow.do(person, "sign", ref, nation)


def test_a_dropped_nation_stops_counting_on_the_outputs_it_was_asked_to_review(app, flow, api):
    """Found in a probe: an output submitted before an amendment dropped Blue Heron
    stayed in review for good, waiting on a Nation that could no longer act on it."""
    ref = flow.active()
    waiting = submit(flow, ref, "Table 1")
    approved = submit(flow, ref, "Table 2")
    clear_for_cedar(flow, ref, approved)  # Heron's part alone is still open
    assert parts(flow, approved) == ("in_review", {CEDAR: "approved", HERON: "review"})

    drop_heron(flow, ref)
    # The drop itself settles the output whose remaining part had approved.
    assert parts(flow, approved) == ("cleared", {CEDAR: "approved", HERON: "ended"})
    assert parts(flow, waiting) == ("in_review", {CEDAR: "review", HERON: "ended"})
    clear_for_cedar(flow, ref, waiting)
    assert parts(flow, waiting) == ("cleared", {CEDAR: "approved", HERON: "ended"})
    with pytest.raises(ValidationError):  # Heron names no Nation of this request now
        flow.perform("heron_rep", ref, c.DecideOutput(waiting, HERON, "approve", ""))

    ended = [e.details for e in events(app, ref) if e.action == "output.part_ended"]
    assert ended == [
        {"output": waiting, "nation": HERON, "status": "in_review"},
        {"output": approved, "nation": HERON, "status": "cleared"},
    ]

    # Pages and the API say the same of Heron's part.
    listed = api.get("cedar_rep", f"/requests/{ref}").get_json()["outputs"]
    assert [[(n["nation"], n["status"]) for n in o["nations"]] for o in listed] == [
        [(HERON, "ended"), (CEDAR, "approved")]
    ] * 2
    from helpers import sign_in

    client = app.test_client()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}/outputs/{waiting}").text
    assert "No longer a party: an amendment dropped its data." in page
    assert "Its stewards are reviewing" not in page


def test_an_output_only_the_dropped_nation_reviewed_is_cleared_when_it_leaves(app, flow):
    """As an output no Nation asked to review is cleared at once: nothing waits on it."""
    ref = flow.active()
    with app.app_context(), session_scope() as session:
        cedar = get_nation(session, CEDAR)
        cedar.output_review_required = False
        session.add(cedar)
    out = submit(flow, ref, "Heron's table")
    assert parts(flow, out) == ("in_review", {HERON: "review"})
    drop_heron(flow, ref)
    assert parts(flow, out) == ("cleared", {HERON: "ended"})


def output_events(api, who: str, ref: str) -> set[int]:
    """The outputs named by the events ``who`` finds listed for request ``ref``."""
    events = api.get(who, f"/requests/{ref}/events?limit=100").get_json()["items"]
    return {e["details"]["output"] for e in events if e["action"].startswith("output.")}


def test_a_dropped_nation_reads_the_outputs_it_was_party_to_and_not_later_ones(app, flow, api):
    """Found in a probe: Blue Heron's representative read the title, venue, file name
    and digest of an output submitted after the amendment that dropped it."""
    from helpers import sign_in

    ref = flow.active()
    before = submit(flow, ref, "Before the drop")
    drop_heron(flow, ref)
    after = submit(flow, ref, "After the drop")

    heron = app.test_client()
    sign_in(heron, "rep.heron@example.org")
    assert heron.get(f"/requests/{ref}/outputs/{before}").status_code == 200
    assert heron.get(f"/requests/{ref}/outputs/{after}").status_code == 404
    assert "After the drop" not in heron.get(f"/requests/{ref}").text
    listed = api.get("heron_rep", f"/requests/{ref}").get_json()["outputs"]
    assert [o["id"] for o in listed] == [before]
    # Nor its events: the output's submission names its title, venue and digest.
    assert output_events(api, "heron_rep", ref) == {before}
    assert "After the drop" not in heron.get(f"/requests/{ref}/timeline").text

    # Red Cedar, the researcher and a coordinator read both.
    for who in ("cedar_rep", "researcher", "coordinator"):
        listed = api.get(who, f"/requests/{ref}").get_json()["outputs"]
        assert [o["id"] for o in listed] == [before, after], who
        assert output_events(api, who, ref) == {before, after}, who
    cedar = app.test_client()
    sign_in(cedar, "rep.cedar@example.org")
    assert cedar.get(f"/requests/{ref}/outputs/{after}").status_code == 200
