"""API tokens end when the account is taken back (found in a probe: a password reset,
a password change and "end every other session" left them working, so whoever once had
the account kept its API after the owner recovered it). Signing out does not end them:
it is what everyone does at the end of a day, and scripts would stop with it."""

import re

from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.notify.models import OutboxMessage

from helpers import PASSWORD, csrf_token, sign_in

NEW_PASSWORD = "a brand new passphrase"
TOKEN = re.compile(r"spt_[A-Za-z0-9_-]{40,}")


def post_form(client, path: str, page: str, **data):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def token_from_the_page(client, name: str) -> str:
    page = post_form(client, "/account/tokens", "/account/tokens", name=name)
    return TOKEN.search(page.get_data(as_text=True)).group(0)


def api_me(app, token: str):
    return app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def revocations(app) -> list[dict]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.action == "token.revoked").order_by(AuditEvent.id)
        )
        return [{**row.details, "actor_id": row.actor_id} for row in rows]


def eve_with_two_tokens(app, make_user):
    """Eve, signed in, with a token an intruder made on the page and one of her own."""
    user_id = make_user("eve@example.org", "researcher", name="Eve")
    client = app.test_client()
    sign_in(client, "eve@example.org")
    tokens = [token_from_the_page(client, "attacker"), token_from_the_page(client, "script")]
    assert all(api_me(app, token).status_code == 200 for token in tokens)
    return user_id, client, tokens


def assert_ended(app, user_id: int, tokens: list[str], because: str):
    for token in tokens:
        assert api_me(app, token).status_code == 401
    revoked = revocations(app)
    assert [event["name"] for event in revoked] == ["attacker", "script"]
    assert all(e["because"] == because and e["actor_id"] == user_id for e in revoked)


def test_a_password_reset_ends_every_api_token(app, make_user):
    user_id, _client, tokens = eve_with_two_tokens(app, make_user)
    visitor = app.test_client()
    post_form(visitor, "/forgot-password", "/forgot-password", email="eve@example.org")
    with app.app_context(), session_scope() as session:
        [mail] = session.exec(
            select(OutboxMessage).where(OutboxMessage.subject.contains("new password"))
        ).all()
        link = re.search(r"https?://[^/\s]+(/reset-password/\S+)", mail.body).group(1)
    done = post_form(visitor, link, link, new_password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert done.status_code == 302
    assert_ended(app, user_id, tokens, "password.reset")
    with app.app_context(), session_scope() as session:
        [changed] = session.exec(
            select(OutboxMessage).where(OutboxMessage.subject.contains("was changed"))
        ).all()
        words = " ".join(changed.body.split())  # the mail's lines are wrapped
        assert "every API token of yours is revoked" in words, "the owner reads it"


def test_a_password_change_ends_every_api_token(app, make_user):
    user_id, client, tokens = eve_with_two_tokens(app, make_user)
    done = post_form(
        client,
        "/account/password",
        "/account",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert done.status_code == 302
    flashed = client.get("/account").get_data(as_text=True)
    assert "has ended, and every API token of yours is revoked." in flashed
    assert_ended(app, user_id, tokens, "password.changed")


def test_ending_every_other_session_ends_every_api_token(app, make_user):
    user_id, client, tokens = eve_with_two_tokens(app, make_user)
    assert post_form(client, "/account/sessions/end", "/account").status_code == 302
    assert_ended(app, user_id, tokens, "user.sessions_ended")
    # New tokens can be made at once, and work.
    assert api_me(app, token_from_the_page(client, "again")).status_code == 200


def test_signing_out_leaves_the_api_tokens_working(app, make_user):
    _user_id, client, tokens = eve_with_two_tokens(app, make_user)
    post_form(client, "/sign-out", "/")
    assert all(api_me(app, token).status_code == 200 for token in tokens)
    assert revocations(app) == []
