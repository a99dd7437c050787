"""Whom each role reaches (portal.policy.access): the test on one request and the SQL for
lists say the same, for every person and request state, and a role's reach goes with
its `view` line."""

import pytest
from sqlmodel import select

from portal.auth.models import User
from portal.db import session_scope
from portal.policy.access import get_visible, may_view, visible_requests
from portal.requests.models import AccessRequest

from flows import PEOPLE

EVERYONE = list(PEOPLE)


@pytest.fixture
def requests_in_every_state(flow):
    """A draft, one in screening, one under review, one awaiting signatures, one that
    dropped Red Cedar's data, and one of another researcher's, touching Blue Heron only."""
    draft = flow.draft()
    screening = flow.draft()
    flow.do("researcher", "submit", screening)
    under_review = flow.to_review()
    approved = flow.approved()
    dropped = flow.to_review()
    flow.do("heron_steward", "review", dropped, "blue-heron", recommendation="changes", comment="x")
    flow.edit("researcher", dropped, datasets=["heron-schools"])
    flow.do("researcher", "submit", dropped)
    others = flow.draft("other_researcher", datasets=["heron-schools"])
    flow.do("other_researcher", "submit", others)
    return {
        "draft": draft,
        "screening": screening,
        "under_review": under_review,
        "approved": approved,
        "dropped": dropped,
        "others": others,
    }


def test_the_one_request_check_and_the_list_agree(app, requests_in_every_state):
    with app.app_context(), session_scope() as session:
        requests = session.exec(select(AccessRequest)).all()
        for who in EVERYONE:
            user = session.exec(select(User).where(User.email == PEOPLE[who][0])).one()
            listed = {r.ref for r in visible_requests(session, user)}
            single = {r.ref for r in requests if may_view(session, user, r)}
            assert listed == single, who


# Who sees which request: drafts are their researcher's alone; a Nation's people see the
# submitted requests touching its data and those it took part in; coordinators see
# every submitted one; administrators none.
SEES = {
    "researcher": {"draft", "screening", "under_review", "approved", "dropped"},
    "other_researcher": {"others"},
    "coordinator": {"screening", "under_review", "approved", "dropped", "others"},
    "admin": set(),
    "cedar_steward1": {"screening", "under_review", "approved", "dropped"},
    "cedar_rep": {"screening", "under_review", "approved", "dropped"},
    "heron_steward": {"screening", "under_review", "approved", "dropped", "others"},
    "heron_rep": {"screening", "under_review", "approved", "dropped", "others"},
}


@pytest.mark.parametrize("who", EVERYONE)
def test_who_sees_what(app, requests_in_every_state, who):
    names = {ref: name for name, ref in requests_in_every_state.items()}
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == PEOPLE[who][0])).one()
        seen = {names[r.ref] for r in visible_requests(session, user) if r.ref in names}
        expected = SEES.get(who, SEES["cedar_steward1"] if "cedar" in who else set())
        assert seen == expected
        for name, ref in requests_in_every_state.items():
            if name not in expected:
                with pytest.raises(Exception, match="no request"):
                    get_visible(session, user, ref)
