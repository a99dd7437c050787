"""Fixtures for the governance rules: ask the real service, make requests and reviews."""

import re

import pytest
from sqlmodel import select

from portal.auth import service as auth
from portal.auth.models import User
from portal.auth.passwords import hash_password
from portal.db import session_scope
from portal.policy.service import authorize
from portal.registry.models import Dataset
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest, RequestDataset, RequestStatus
from portal.requests.service import new_ref
from portal.reviews.models import Recommendation, Review

from helpers import TOTP_SECRET, sign_in

PASSWORD = "correct horse battery"  # the root conftest's, so sign_in() works as there


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def make_user(app, password_hash):
    """As the root make_user, but every person shares one Argon2 hash of PASSWORD,
    computed once: these tests make many people, and hashing is slow by design. Those
    whose roles require two-factor sign-in have it set up with TOTP_SECRET."""
    from portal.auth import twofactor

    def make(email: str, *roles, name: str | None = None) -> int:
        with app.app_context(), session_scope() as session:
            user = User(email=email, name=name or email.split("@")[0], password_hash=password_hash)
            session.add(user)
            session.flush()
            for role in roles:
                role, nation_slug = role if isinstance(role, tuple) else (role, None)
                nation = get_nation(session, nation_slug) if nation_slug else None
                auth.grant_role(session, user, role, nation)
            if twofactor.two_factor_required(session, user):
                twofactor.enable_with_secret(session, user, TOTP_SECRET)
            return user.id

    return make


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def csrf():
    """csrf(html) -> the form token on a page."""
    return csrf_token


@pytest.fixture
def login():
    """login(client, email): sign in through the sign-in page, as a person does."""

    def login(client, email: str) -> None:
        response = sign_in(client, email, PASSWORD)  # with the code, for those asked one
        assert response.status_code == 302, "signed in"

    return login


@pytest.fixture
def ask(app):
    """ask(user_id, action, nation=slug, request_id=id) -> PolicyDecision, in a fresh session."""

    def ask(user_id: int, action: str, nation: str | None = None, request_id: int | None = None):
        with app.app_context(), session_scope() as session:
            return authorize(
                session,
                session.get(User, user_id),
                action,
                nation=get_nation(session, nation) if nation else None,
                request=session.get(AccessRequest, request_id) if request_id else None,
            )

    return ask


@pytest.fixture
def make_request(app, make_user):
    """make_request(["cedar-health"], status=..., revision=..., **fields) -> the request's id."""
    researcher = {}

    def make(
        datasets=("cedar-health",), *, status=RequestStatus.UNDER_REVIEW, revision=1, **fields
    ):
        if "id" not in researcher:
            researcher["id"] = make_user("researcher@example.org", "researcher")
        values = {
            "title": "Service use (fictional)",
            "ethics_approval": "Fictional University REB, ref. 2024-017",
            "storage_location": "CA-ON",
            "retention_days": 365,
        } | fields
        with app.app_context(), session_scope() as session:
            request = AccessRequest(
                ref=new_ref(),
                researcher_id=researcher["id"],
                status=status,
                current_revision=revision,
                **values,
            )
            session.add(request)
            session.flush()
            for slug in datasets:
                dataset = session.exec(select(Dataset).where(Dataset.slug == slug)).one()
                session.add(RequestDataset(request_id=request.id, dataset_id=dataset.id))
            return request.id

    return make


@pytest.fixture
def add_review(app):
    """add_review(request_id, nation_slug, steward_id, revision=, recommendation=, conflict=)."""

    def add(
        request_id: int,
        nation: str,
        steward_id: int,
        *,
        revision: int = 1,
        recommendation: Recommendation | None = Recommendation.APPROVE,
        conflict: bool = False,
    ) -> None:
        with app.app_context(), session_scope() as session:
            session.add(
                Review(
                    request_id=request_id,
                    nation_id=get_nation(session, nation).id,
                    revision=revision,
                    steward_id=steward_id,
                    recommendation=None if conflict else recommendation,
                    conflict_of_interest=conflict,
                )
            )

    return add


@pytest.fixture
def revoke(app):
    """revoke(user_id, role, nation_slug=None): take a role away, as the service does."""

    def revoke(user_id: int, role: str, nation: str | None = None) -> None:
        with app.app_context(), session_scope() as session:
            nation_obj = get_nation(session, nation) if nation else None
            auth.revoke_role(session, session.get(User, user_id), role, nation_obj)

    return revoke
