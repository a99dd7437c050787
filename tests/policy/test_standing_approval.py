"""standing_approval: the one approval whose conditions bind a Nation (the agreement
prints them, obligations and output reviews follow from them). Each case kills a
mutant of its query that the rest of the suite let live: a filter dropped (another
request's, another Nation's approval, or a refusal taken for it), the revision bound
inverted, or the oldest approval taken for the latest."""

import pytest

from portal.db import session_scope
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.reviews.models import Decision, Outcome
from portal.reviews.service import standing_approval


@pytest.fixture
def decide(app):
    """decide(request_id, slug, revision, outcome, reason) -> the Decision row's id."""

    def decide(request_id, slug, revision, outcome=Outcome.APPROVE, reason=""):
        with app.app_context(), session_scope() as session:
            nation = get_nation(session, slug)
            request = session.get(AccessRequest, request_id)
            decision = Decision(
                request_id=request_id,
                nation_id=nation.id,
                revision=revision,
                representative_id=request.researcher_id,  # any person: it is not read
                outcome=outcome,
                reason=reason,
            )
            session.add(decision)
            session.flush()
            return decision.id

    return decide


def standing(app, request_id, slug, revision=None):
    with app.app_context(), session_scope() as session:
        request = session.get(AccessRequest, request_id)
        found = standing_approval(session, request, get_nation(session, slug), revision)
        return found and found.id


def test_the_standing_approval_is_this_requests_and_this_nations(
    app, nations, make_request, decide
):
    mine = make_request(["cedar-health", "heron-schools"])
    other = make_request(["cedar-health", "heron-schools"])
    cedar = decide(mine, "red-cedar", 1)
    decide(mine, "blue-heron", 1)  # later, but Blue Heron's
    decide(other, "red-cedar", 1)  # later, but another request's
    assert standing(app, mine, "red-cedar") == cedar
    assert standing(app, other, "blue-heron") is None


def test_a_refusal_after_an_approval_is_not_the_standing_approval(
    app, nations, make_request, decide
):
    request_id = make_request(["cedar-health"])
    approval = decide(request_id, "red-cedar", 1)
    decide(request_id, "red-cedar", 1, Outcome.REFUSE, reason="Community concerns.")
    assert standing(app, request_id, "red-cedar") == approval


@pytest.mark.parametrize(
    ("revision", "expected"),
    [(None, "third"), (3, "third"), (2, "first"), (1, "first"), (0, None)],
)
def test_the_latest_approval_up_to_a_revision(
    app, nations, make_request, decide, revision, expected
):
    """Approved on revision 1 and again on 3 (a renewal): the latest one binds, or, for
    an edition issued on revision 2, the one of revision 1."""
    request_id = make_request(["cedar-health"], revision=3)
    ids = {"first": decide(request_id, "red-cedar", 1)}
    ids["third"] = decide(request_id, "red-cedar", 3)
    assert standing(app, request_id, "red-cedar", revision) == ids.get(expected)
