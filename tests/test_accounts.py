"""Sessions that end on the server, their absolute lifetime, forgotten and changed
passwords, and the audit events of signing in: through the pages, on a real database."""

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.auth import accounts
from portal.auth.models import PasswordResetToken, User
from portal.db import pinned_clock, session_scope
from portal.notify.models import OutboxMessage

from helpers import PASSWORD, csrf_token, sign_in

NEW_PASSWORD = "a brand new passphrase"


def events(app, kind: str) -> list[AuditEvent]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.action == kind).order_by(AuditEvent.id)
        ).all()
        for row in rows:
            session.expunge(row)
        return rows


def outbox(app, recipient: str) -> list[OutboxMessage]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == recipient)).all()
        for row in rows:
            session.expunge(row)
        return rows


def signed_in_as(client) -> str | None:
    html = client.get("/").get_data(as_text=True)
    match = re.search(r"Signed in as <strong>([^<]+)</strong>", html)
    return match.group(1) if match else None


def post_form(client, path: str, page: str | None = None, **data):
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


# --- sessions ---------------------------------------------------------------------------


def test_signing_out_ends_the_session_on_the_server(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    client = app.test_client()
    sign_in(client, "ada@example.org")
    with client.session_transaction() as stolen:
        copied = dict(stolen)  # someone kept a copy of the cookie
    html = client.get("/").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(html)})
    assert signed_in_as(client) is None

    replay = app.test_client()
    with replay.session_transaction() as session:
        session.update(copied)
    assert signed_in_as(replay) is None, "the old cookie no longer works"
    assert replay.get("/account").status_code == 302


def test_signing_out_ends_every_other_session_of_that_person(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "ada@example.org")
    sign_in(phone, "ada@example.org")
    assert signed_in_as(phone) == "Ada Lovelace"
    post_form(laptop, "/sign-out", page="/")
    assert signed_in_as(phone) is None


def test_ending_the_other_sessions_keeps_this_one(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "ada@example.org")
    sign_in(phone, "ada@example.org")
    response = post_form(laptop, "/account/sessions/end", page="/account")
    assert response.status_code == 302
    assert signed_in_as(laptop) == "Ada Lovelace"
    assert signed_in_as(phone) is None
    assert len(events(app, "user.sessions_ended")) == 1


def test_deactivation_ends_every_session(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    client = app.test_client()
    sign_in(client, "ada@example.org")
    with app.app_context(), session_scope() as session:
        accounts.deactivate_user(session, session.exec(select(User)).one())
    assert signed_in_as(client) is None
    assert sign_in(client, "ada@example.org").status_code == 401
    assert len(events(app, "user.deactivated")) == 1


def test_a_session_lasts_twelve_hours_from_sign_in_whatever_the_activity(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    client = app.test_client()
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with pinned_clock(start):
        sign_in(client, "ada@example.org")
    for hours in (1, 6, 11, 11.9):  # busy all day: the idle lifetime never runs out
        with pinned_clock(start + timedelta(hours=hours)):
            assert signed_in_as(client) == "Ada Lovelace"
    with pinned_clock(start + timedelta(hours=12, minutes=1)):
        assert signed_in_as(client) is None
    with pinned_clock(start + timedelta(hours=11)):
        assert signed_in_as(client) is None, "the refused session was emptied"


def test_a_session_without_its_version_or_sign_in_time_is_refused(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    client = app.test_client()
    sign_in(client, "ada@example.org")
    with client.session_transaction() as session:
        del session["signed_in_at"]
    assert signed_in_as(client) is None
    sign_in(client, "ada@example.org")
    with client.session_transaction() as session:
        session["session_version"] = 99
    assert signed_in_as(client) is None


# --- audit events of signing in -----------------------------------------------------------


def test_sign_ins_and_failed_sign_ins_are_audit_events(app, client, make_user):
    user_id = make_user("ada@example.org", "researcher")
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(client, "ada@example.org", "wrong password!").status_code == 401
    assert sign_in(client, "NOBODY@example.org", "some password").status_code == 401
    assert sign_in(client, "ada@example.org").status_code == 302

    failed = events(app, "user.sign_in_failed")
    assert [e.details for e in failed] == [
        {"email": "ada@example.org", "stage": "password", "user_id": user_id},
        {"email": "nobody@example.org", "stage": "password"},
    ]
    assert all(e.client_address == "192.0.2.7" and e.actor_id is None for e in failed)
    assert all("wrong password!" not in str(e.details) for e in failed)
    [signed_in] = events(app, "user.signed_in")
    assert signed_in.actor_id == user_id and signed_in.details["method"] == "password"

    post_form(client, "/sign-out", page="/")
    [signed_out] = events(app, "user.signed_out")
    assert signed_out.actor_id == user_id


def test_the_account_events_say_nothing_to_request_readers():
    from portal.audit.events import ACCOUNT_EVENTS, Audience

    for kind in ACCOUNT_EVENTS:
        assert kind.words and kind.audience is Audience.INTERNAL and not kind.names_actor


# --- forgotten passwords -------------------------------------------------------------------


def ask_reset(client, email: str):
    return post_form(client, "/forgot-password", email=email)


def reset_link(app, email: str) -> str:
    [message] = [m for m in outbox(app, email) if "new password" in m.subject.lower()]
    match = re.search(r"https?://[^/\s]+(/reset-password/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_forgotten_password_is_reset_through_the_pages(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    old_session = app.test_client()
    sign_in(old_session, "ada@example.org")

    client = app.test_client()
    response = ask_reset(client, "Ada@Example.org")
    assert response.status_code == 200 and "on its way" in response.get_data(as_text=True)
    link = reset_link(app, "ada@example.org")

    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_token(page.get_data(as_text=True))
    mismatch = client.post(
        link, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm": "other"}
    )
    assert mismatch.status_code == 422
    short = client.post(
        link, data={"csrf_token": token, "new_password": "short", "confirm": "short"}
    )
    assert short.status_code == 422 and "at least 10" in short.get_data(as_text=True)
    done = client.post(
        link, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/sign-in"

    assert signed_in_as(old_session) is None, "the sessions of the old password ended"
    assert client.get(link).status_code == 404, "the link works once"
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    again = client.post(
        link, data={"csrf_token": token, "new_password": "yet another one!", "confirm": "x"}
    )
    assert again.status_code == 404
    assert sign_in(client, "ada@example.org").status_code == 401
    assert sign_in(client, "ada@example.org", NEW_PASSWORD).status_code == 302
    assert signed_in_as(client) == "Ada Lovelace"

    assert len(events(app, "password.reset_requested")) == 1
    assert len(events(app, "password.reset")) == 1
    assert any("was changed" in m.subject for m in outbox(app, "ada@example.org"))
    with app.app_context(), session_scope() as session:
        stored = session.exec(select(PasswordResetToken)).one()
        assert stored.used_at is not None and link.rsplit("/", 1)[1] != stored.token_hash


def test_a_reset_link_expires_after_an_hour(app, client, make_user):
    make_user("ada@example.org")
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with pinned_clock(start):
        ask_reset(client, "ada@example.org")
    link = reset_link(app, "ada@example.org")
    with pinned_clock(start + timedelta(minutes=59)):
        assert client.get(link).status_code == 200
    with pinned_clock(start + timedelta(minutes=61)):
        page = client.get(link)
        assert page.status_code == 404 and "Ask for a new link" in page.get_data(as_text=True)


def test_a_newer_reset_ends_the_older_links(app, client, make_user):
    make_user("ada@example.org")
    ask_reset(client, "ada@example.org")
    first = reset_link(app, "ada@example.org")
    with app.app_context(), session_scope() as session:
        for message in session.exec(select(OutboxMessage)):
            session.delete(message)
    ask_reset(client, "ada@example.org")
    second = reset_link(app, "ada@example.org")
    token = csrf_token(client.get(second).get_data(as_text=True))
    client.post(
        second, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert client.get(first).status_code == 404


def test_the_same_answer_whether_or_not_the_account_exists(app, make_user):
    make_user("ada@example.org")
    make_user("gone@example.org")
    with app.app_context(), session_scope() as session:
        accounts.deactivate_user(
            session, session.exec(select(User).where(User.email == "gone@example.org")).one()
        )
    answers = {}
    for email in ("ada@example.org", "nobody@example.org", "gone@example.org", "not an address"):
        response = ask_reset(app.test_client(), email)
        body = response.get_data(as_text=True)
        answers[email] = (response.status_code, re.sub(r'value="[^"]*"', "", body))
    assert len(set(answers.values())) == 1, "every answer reads the same"
    assert [m.recipient for m in outbox(app, "ada@example.org")] == ["ada@example.org"]
    assert outbox(app, "nobody@example.org") == [] and outbox(app, "gone@example.org") == []
    requested = events(app, "password.reset_requested")
    assert len(requested) == 4 and "user_id" not in requested[1].details


def test_an_unknown_or_made_up_link_is_refused(client):
    assert client.get("/reset-password/not-a-token").status_code == 404


# --- changing the password -------------------------------------------------------------------


def test_changing_the_password_asks_the_current_one_and_ends_other_sessions(app, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    client, other = app.test_client(), app.test_client()
    sign_in(client, "ada@example.org")
    sign_in(other, "ada@example.org")
    wrong = post_form(
        client,
        "/account/password",
        page="/account",
        current_password="not my password",
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert wrong.status_code == 422
    assert "not your current password" in wrong.get_data(as_text=True)
    assert signed_in_as(other) == "Ada Lovelace", "a refused change changes nothing"

    done = post_form(
        client,
        "/account/password",
        page="/account",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert done.status_code == 302
    assert signed_in_as(client) == "Ada Lovelace", "this session goes on"
    assert signed_in_as(other) is None, "every other one has ended"
    assert len(events(app, "password.changed")) == 1
    assert any("was changed" in m.subject for m in outbox(app, "ada@example.org"))
    fresh = app.test_client()
    assert sign_in(fresh, "ada@example.org").status_code == 401
    assert sign_in(fresh, "ada@example.org", NEW_PASSWORD).status_code == 302


def test_signing_an_agreement_asks_the_new_password(app, flow):
    import pytest

    from portal.errors import ValidationError

    ref = flow.approved()
    with app.app_context(), session_scope() as session:
        accounts.change_password(session, flow.user(session, "researcher"), PASSWORD, NEW_PASSWORD)
    with pytest.raises(ValidationError):
        flow.do("researcher", "sign", ref, password=PASSWORD)
    assert flow.do("researcher", "sign", ref, password=NEW_PASSWORD) == "awaiting_signatures"


# --- the language of the account's pages ---------------------------------------------------


def test_the_account_page_shows_and_changes_the_persons_language(app, make_user):
    user_id = make_user("ada@example.org", "researcher", name="Ada Lovelace")
    client = app.test_client()
    sign_in(client, "ada@example.org")
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = page[page.index('id="language-h"') :]
    assert "The portal speaks to you in <strong>English</strong>" in section
    assert re.search(r'<option value="en" lang="en" selected>English</option>', section)
    assert 'name="next" value="/account"' in section

    answer = client.post(
        "/language", data={"language": "fr", "next": "/account", "csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/account"
    with app.app_context(), session_scope() as session:
        assert session.get(User, user_id).language == "fr"
    # The setting holds whatever the browser says; the page and its form speak French.
    french = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Votre compte</h1>" in french
    assert "Le portail s’adresse à vous en <strong>Français</strong>" in french
    assert re.search(r'<option value="fr" lang="fr" selected>Français</option>', french)
    assert "Mot de passe actuel" in french  # a form's label (lazy_gettext)
    assert "Authentification à deux facteurs" in french


def test_the_sign_in_pages_and_their_errors_speak_french(app, client, make_user):
    make_user("ada@example.org", "researcher")
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = client.get("/sign-in", headers=french).get_data(as_text=True)
    assert "Mot de passe oublié?" in page and "Adresse courriel" in page
    empty = client.post("/sign-in", headers=french, data={"csrf_token": csrf_token(page)})
    assert "Indiquez votre adresse courriel." in empty.get_data(as_text=True)
    wrong = client.post(
        "/sign-in",
        headers=french,
        data={"email": "ada@example.org", "password": "not it", "csrf_token": csrf_token(page)},
    )
    assert wrong.status_code == 401
    assert "ne correspondent à aucun compte actif" in wrong.get_data(as_text=True)
    missing = client.get("/no-such-page", headers=french)
    assert missing.status_code == 404 and "Introuvable" in missing.get_data(as_text=True)


def test_the_reset_link_ignores_a_forged_host(app, client, make_user):
    """Found in a probe: a reset asked with ``Host: attacker.example`` mailed a link to
    that site, and the token with it. Links are made under PORTAL_URL."""
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    page = client.get("/forgot-password", headers={"Host": "attacker.example"})
    token = csrf_token(page.get_data(as_text=True))
    client.post(
        "/forgot-password",
        data={"csrf_token": token, "email": "ada@example.org"},
        headers={"Host": "attacker.example"},
    )
    [message] = [m for m in outbox(app, "ada@example.org") if "new password" in m.subject.lower()]
    assert "attacker.example" not in message.body
    assert f"{app.config['PORTAL_URL']}/reset-password/" in message.body
