"""Transitions under concurrency: real parallel connections, each in its own
transaction, started together. Written for PostgreSQL (row locks); SQLite, which
serialises writers, must give the same answers."""

import pytest
from sqlmodel import select

from portal.db import session_scope
from portal.errors import ServiceError
from portal.requests.models import RequestRevision
from portal.reviews.models import Decision, NationTrack, Review, TrackStatus

from helpers import race


def count(app, model, *where):
    with app.app_context(), session_scope() as session:
        return len(session.exec(select(model).where(*where)).all())


def test_a_double_clicked_submit_makes_one_revision(app, flow):
    ref = flow.draft()
    results = race(*[lambda: flow.do("researcher", "submit", ref)] * 2)
    assert sum(isinstance(r, str) for r in results) == 1
    assert sum(isinstance(r, ServiceError) for r in results) == 1
    assert count(app, RequestRevision) == 1


def test_two_stewards_at_once_both_count(app, flow):
    ref = flow.to_review()
    results = race(
        lambda: flow.do("cedar_steward1", "review", ref, "red-cedar"),
        lambda: flow.do("cedar_steward2", "review", ref, "red-cedar"),
    )
    assert all(isinstance(r, str) for r in results), results
    assert count(app, Review) == 2
    assert count(app, NationTrack, NationTrack.status == TrackStatus.DECISION) == 1


def test_the_same_steward_twice_at_once_counts_once(app, flow):
    ref = flow.to_review()
    results = race(*[lambda: flow.do("cedar_steward1", "review", ref, "red-cedar")] * 2)
    assert sum(isinstance(r, str) for r in results) == 1
    assert count(app, Review) == 1


def test_two_nations_approving_at_once_reach_signatures(app, flow):
    ref = flow.reviewed()
    results = race(
        lambda: flow.do("cedar_rep", "decide", ref, "red-cedar"),
        lambda: flow.do("heron_rep", "decide", ref, "blue-heron"),
    )
    assert all(isinstance(r, str) for r in results), results
    assert flow.status(ref) == "awaiting_signatures"


def test_an_approval_racing_a_refusal_never_ends_approved(app, flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    results = race(
        lambda: flow.do("heron_rep", "decide", ref, "blue-heron"),
        lambda: flow.do(
            "cedar_rep",
            "decide",
            ref,
            "red-cedar",
            outcome="refuse",
            reason="We withdraw our consent.",
        ),
    )
    # Whichever lands first, a refusal by any Nation refuses the whole request.
    assert isinstance(results[1], str), results
    assert flow.status(ref) == "refused"


@pytest.mark.parametrize("attempts", [4])
def test_racing_decisions_of_one_nation_record_one(app, flow, make_user, attempts):
    ref = flow.reviewed()
    for n in range(attempts - 1):
        make_user(f"rep{n}.cedar@example.org", ("representative", "red-cedar"))
    reps = ["cedar_rep"] + [f"rep{n}.cedar@example.org" for n in range(attempts - 1)]
    results = race(*[lambda who=who: flow.do(who, "decide", ref, "red-cedar") for who in reps])
    assert sum(isinstance(r, str) for r in results) == 1
    assert count(app, Decision) == 1
