"""Bearer tokens only: made on the tokens page or with `portal users token`, shown once,
stored hashed, revocable at once; a signed-in browser's cookie never authenticates."""

import re

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.auth import service as auth
from portal.auth.models import ApiToken, User
from portal.db import session_scope
from portal.requests.models import AccessRequest

from apis import problem
from helpers import csrf_token, sign_in

TOKEN = re.compile(r"spt_[A-Za-z0-9_-]{40,}")


def count(app, model) -> int:
    with app.app_context(), session_scope() as session:
        return len(session.exec(select(model)).all())


def test_a_signed_in_browser_cookie_never_authenticates_the_api(app, api):
    browser = app.test_client()
    sign_in(browser, "researcher@example.org")
    assert browser.get("/").status_code == 200  # the cookie works for the pages
    problem(browser.get("/api/v1/me"), 401)
    # A cross-site form post riding on the cookie would be refused, and write nothing.
    problem(browser.post("/api/v1/requests", json={"title": "forged"}), 401)
    assert count(app, AccessRequest) == 0


def test_the_api_takes_no_csrf_token_and_sets_no_cookie(app, api):
    response = api.post("researcher", "/requests", json={"title": "Scripted"})
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_revoked_token_stops_working_at_once(app, api):
    assert api.get("researcher", "/me").status_code == 200
    with app.app_context(), session_scope() as session:
        user = auth.get_user(session, "researcher@example.org")
        record = session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one()
        auth.revoke_api_token(session, user, record.id)
    problem(api.get("researcher", "/me"), 401)


def test_a_deactivated_account_s_tokens_stop_working(app, api):
    assert api.get("researcher", "/me").status_code == 200
    with app.app_context(), session_scope() as session:
        auth.get_user(session, "researcher@example.org").active = False
    problem(api.get("researcher", "/me"), 401)


def test_the_tokens_page_creates_shows_once_lists_and_revokes(app, api):
    browser = app.test_client()
    sign_in(browser, "researcher@example.org")
    page = browser.get("/account/tokens").get_data(as_text=True)
    assert "You have no tokens." in page

    created = browser.post(
        "/account/tokens", data={"name": "Nightly report", "csrf_token": csrf_token(page)}
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    shown = TOKEN.findall(created.get_data(as_text=True))
    assert len(set(shown)) == 1
    token = shown[0]
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200

    listing = browser.get("/account/tokens").get_data(as_text=True)
    assert token not in listing, "shown once, never again"
    assert "Nightly report" in listing and token[:8] in listing
    assert "never" not in listing, "the page says when it was last used"

    token_id = int(re.search(r"/account/tokens/(\d+)/revoke", listing).group(1))
    revoked = browser.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(listing)}
    )
    assert revoked.status_code == 302
    assert "is revoked" in browser.get("/account/tokens").get_data(as_text=True)
    problem(app.test_client().get("/api/v1/me", headers=headers), 401)
    with app.app_context(), session_scope() as session:
        event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "token.revoked" and event.actor_label == "researcher@example.org"
        assert event.details["name"] == "Nightly report" and token not in str(event.details)


def test_revoking_needs_the_form_token_and_ones_own_token(app, api):
    api.get("researcher", "/me")  # the researcher's token exists and works
    with app.app_context(), session_scope() as session:
        token_id = session.exec(select(ApiToken.id)).one()
    other = app.test_client()
    sign_in(other, "other@example.org")
    page = other.get("/account/tokens").get_data(as_text=True)
    assert other.post(f"/account/tokens/{token_id}/revoke").status_code == 400  # no CSRF token
    response = other.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404, "another person's token is not theirs to know of"
    assert api.get("researcher", "/me").status_code == 200


@pytest.mark.parametrize(
    "name, status", [("x" * 101, 422), ("", 200)], ids=["too long", "empty: a default name"]
)
def test_token_names_are_checked(app, api, name, status):
    browser = app.test_client()
    sign_in(browser, "researcher@example.org")
    page = browser.get("/account/tokens").get_data(as_text=True)
    response = browser.post("/account/tokens", data={"name": name, "csrf_token": csrf_token(page)})
    assert response.status_code == status
    with app.app_context(), session_scope() as session:
        names = session.exec(select(ApiToken.name).join(User)).all()
    assert names == ([] if status == 422 else ["API token"])


def test_the_command_line_token_works_on_the_api(app, api, runner):
    result = runner.invoke(args=["users", "token", "coordinator@example.org"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["roles"] == [{"role": "coordinator", "nation": None}]
