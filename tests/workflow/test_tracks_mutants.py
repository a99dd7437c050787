"""Each Nation's track follows the current revision (invariant 11,
portal/workflow/tracks.py): a revision that no longer touches a Nation's data ends its
track once, saying where it stood, and tells it; one whose data returns reviews again
on the same track; an ended track counts for nothing. Each test kills mutants of
tracks.py that the rest of the suite let live (a skip condition inverted, an ended
track ended again, the state before the end or the revision not recorded)."""

from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.notify.models import OutboxMessage
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.reviews.models import NationTrack
from portal.reviews.service import tracks_of

from flows import PEOPLE
from helpers import nation_ids_of

HERON = "Blue Heron Métis (fictional)"


def request_of(session, ref: str) -> AccessRequest:
    return session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()


def tracks(app, ref: str) -> dict[str, str]:
    with app.app_context(), session_scope() as session:
        return {n.slug: t.status.value for t, n in tracks_of(session, request_of(session, ref))}


def track_rows(app, ref: str) -> int:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        return len(
            session.exec(select(NationTrack).where(NationTrack.request_id == request.id)).all()
        )


def ended_events(app, ref: str) -> list[tuple[dict, list[int]]]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = select(AuditEvent).where(
            AuditEvent.request_id == request.id, AuditEvent.action == "track.ended"
        )
        return [(dict(e.details), nation_ids_of(session, e)) for e in session.exec(query)]


def nation_id(app, slug: str) -> int:
    with app.app_context(), session_scope() as session:
        return get_nation(session, slug).id


def subjects(app, email: str) -> list[str]:
    with app.app_context(), session_scope() as session:
        query = select(OutboxMessage.subject).where(OutboxMessage.recipient == email)
        return list(session.exec(query))


def returned_by_cedar(flow, ref: str) -> None:
    flow.do(
        "cedar_steward1", "review", ref, "red-cedar", recommendation="changes", comment="Narrow it."
    )


def test_a_revision_that_drops_a_nation_ends_its_track_once_saying_where_it_stood(flow):
    """Blue Heron had reached its decision when the researcher dropped its data: its
    track ends (the event says it was at the decision, on revision 2), its people are
    told, and Red Cedar's track is left alone. A later revision that still leaves it
    out ends nothing again."""
    ref = flow.to_review()
    flow.do("heron_steward", "review", ref, "blue-heron")  # quorum 1: its decision next
    returned_by_cedar(flow, ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    assert tracks(flow.app, ref) == {"red-cedar": "review", "blue-heron": "ended"}
    heron = nation_id(flow.app, "blue-heron")
    expected = [({"nation": "blue-heron", "previous": "decision", "revision": 2}, [heron])]
    assert ended_events(flow.app, ref) == expected
    told = f"{ref} no longer uses {HERON}'s data"
    for who in ("heron_rep", "heron_steward"):
        assert subjects(flow.app, PEOPLE[who][0]).count(told) == 1
    assert told not in subjects(flow.app, PEOPLE["cedar_rep"][0])

    flow.do("coordinator", "screen", ref)
    returned_by_cedar(flow, ref)
    flow.edit("researcher", ref, title="A narrower study (fictional)")
    flow.do("researcher", "submit", ref)
    assert ended_events(flow.app, ref) == expected
    assert subjects(flow.app, PEOPLE["heron_rep"][0]).count(told) == 1
    assert tracks(flow.app, ref) == {"red-cedar": "review", "blue-heron": "ended"}


def test_a_nation_whose_data_returns_reviews_again_on_its_own_track(flow):
    ref = flow.to_review()
    returned_by_cedar(flow, ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    assert tracks(flow.app, ref) == {"red-cedar": "review", "blue-heron": "ended"}
    returned_by_cedar(flow, ref)
    flow.edit("researcher", ref, datasets=["cedar-health", "heron-schools"])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    assert tracks(flow.app, ref) == {"red-cedar": "review", "blue-heron": "review"}
    assert track_rows(flow.app, ref) == 2  # one track per Nation, taken up again
    flow.do("heron_steward", "review", ref, "blue-heron")
    assert tracks(flow.app, ref)["blue-heron"] == "decision"


def test_an_ended_track_does_not_hold_back_the_last_approval(flow):
    """Red Cedar is the only Nation still taking part: its approval is the last one,
    though Blue Heron (ended) never approved this revision."""
    ref = flow.to_review()
    returned_by_cedar(flow, ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    flow.do("cedar_steward3", "review", ref, "red-cedar")
    assert flow.do("cedar_rep", "decide", ref, "red-cedar") == "awaiting_signatures"
    assert tracks(flow.app, ref) == {"red-cedar": "approved", "blue-heron": "ended"}
