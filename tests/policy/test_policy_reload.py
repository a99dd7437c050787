"""Two app instances on one database, as two worker processes: a change made through
one takes effect for the very next request the other serves."""

import shutil

import pytest

from portal import create_app
from portal.auth import service as auth
from portal.auth.models import User
from portal.db import session_scope
from portal.paths import resource_dir
from portal.policy.service import authorize
from portal.policy.store import store_for
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.workflow import profiles as profile


@pytest.fixture
def other_app(app):
    """A second instance of the app (its own engine and enforcer) on the same database."""
    second = create_app(dict(app.config))
    yield second
    second.extensions["portal.db"].dispose()


def builds(app) -> tuple[int, int | None]:
    with app.app_context(), session_scope() as session:
        store = store_for(session)
        return store.builds, store.loaded_version


def test_a_role_granted_in_one_worker_holds_in_the_other_at_its_next_request(
    app, other_app, nations, make_user, login
):
    from portal.auth import twofactor

    from helpers import TOTP_SECRET

    make_user("rep@example.org", "researcher")
    with app.app_context(), session_scope() as session:  # as a representative must
        twofactor.enable_with_secret(
            session, auth.get_user(session, "rep@example.org"), TOTP_SECRET
        )
    client = other_app.test_client()
    login(client, "rep@example.org")
    assert client.get("/nations/red-cedar/profile").status_code == 403
    built_before = builds(other_app)

    with app.app_context(), session_scope() as session:
        user = auth.get_user(session, "rep@example.org")
        auth.grant_role(session, user, "representative", get_nation(session, "red-cedar"))

    assert builds(other_app) == built_before, "nothing is rebuilt until a request comes"
    assert client.get("/nations/red-cedar/profile").status_code == 200
    count, version = builds(other_app)
    assert count == built_before[0] + 1 and version == built_before[1] + 1

    with app.app_context(), session_scope() as session:
        user = auth.get_user(session, "rep@example.org")
        auth.revoke_role(session, user, "representative", get_nation(session, "red-cedar"))
    assert client.get("/nations/red-cedar/profile").status_code == 403


def test_every_request_checks_the_version_before_it_is_served(app, other_app, nations, make_user):
    client = other_app.test_client()
    assert client.get("/sign-in").status_code == 200
    count, version = builds(other_app)
    assert client.get("/sign-in").status_code == 200
    assert builds(other_app) == (count, version), "no change, no rebuild"
    make_user("new@example.org", ("steward", "red-cedar"))  # through the first app
    client.get("/sign-in")  # a page that asks the policy nothing itself
    assert builds(other_app) == (count + 1, version + 1)


def test_a_policy_load_in_one_worker_holds_in_the_other(
    app, other_app, nations, make_user, login, tmp_path
):
    """Once member Nations exist a load is their proposal: in force in the other worker
    when they approve it, not before."""
    from portal.workflow.proposals import VoteOnProposal, govern

    make_user("rep@example.org", ("representative", "red-cedar"))
    make_user("rep.heron@example.org", ("representative", "blue-heron"))
    make_user("coordinator@example.org", "coordinator")
    client = other_app.test_client()
    login(client, "coordinator@example.org")
    assert client.get("/dashboard").status_code == 200

    policies = tmp_path / "policies"
    shutil.copytree(resource_dir("policies"), policies)
    roles = policies / "roles.csv"
    roles.write_text(roles.read_text().replace("p, coordinator, *, view_dashboard\n", ""))
    result = app.test_cli_runner().invoke(args=["policy", "load", "--policies", str(policies)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Proposal #1 awaits the member Nations' approval.\n"
    assert client.get("/dashboard").status_code == 200

    for email, slug in (("rep@example.org", "red-cedar"), ("rep.heron@example.org", "blue-heron")):
        with app.app_context(), session_scope() as session:
            voter = auth.get_user(session, email)
            govern(session, voter, VoteOnProposal(1, slug, "approve", ""))
    assert client.get("/dashboard").status_code == 403


def test_a_profile_change_in_one_worker_holds_in_the_other(
    app, other_app, nations, make_user, make_request, add_review
):
    representative = make_user("rep@example.org", ("representative", "red-cedar"))
    steward = make_user("s@example.org", ("steward", "red-cedar"))
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", steward)

    def may_approve(on_app) -> list[str]:
        with on_app.app_context(), session_scope() as session:
            decision = authorize(
                session,
                session.get(User, representative),
                "approve",
                nation=get_nation(session, "red-cedar"),
                request=session.get(AccessRequest, request_id),
            )
            return [rule.message for rule in decision.blocked_by]

    assert may_approve(other_app) == [
        "Red Cedar Nation (fictional) requires 2 steward reviews of this revision; 1 recorded."
    ]
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        profile.update_profile(session, session.get(User, representative), nation, review_quorum=1)
    assert may_approve(other_app) == []
