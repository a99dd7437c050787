"""Signing in and out: argon2 passwords, one message for every failure, CSRF,
a fresh session at sign-in, and no open redirects."""

import pytest
from sqlmodel import select

from portal.auth import service
from portal.auth.models import User
from portal.auth.routes import SIGN_IN_FAILED
from portal.db import session_scope

from helpers import PASSWORD, csrf_token, sign_in


def test_passwords_are_stored_as_argon2_hashes(app, make_user):
    make_user("ada@example.org")
    with app.app_context(), session_scope() as session:
        stored = session.exec(select(User)).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_in_and_out(client, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    response = sign_in(client, "ADA@example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Ada Lovelace" in home and "Researcher" in home
    response = client.post("/sign-out", data={"csrf_token": csrf_token(home)})
    assert response.status_code == 302
    assert "Sign in" in client.get("/").get_data(as_text=True)
    assert "Ada Lovelace" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "email, password",
    [("ada@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)],
    ids=["wrong password", "unknown address"],
)
def test_every_failed_sign_in_reads_the_same(client, make_user, email, password):
    make_user("ada@example.org")
    response = sign_in(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert SIGN_IN_FAILED in html
    assert email in html, "the address typed is kept"
    assert password not in html, "the password is not sent back"


def test_a_deactivated_account_cannot_sign_in(app, client, make_user):
    make_user("ada@example.org")
    with app.app_context(), session_scope() as session:
        session.exec(select(User)).one().active = False
    assert sign_in(client, "ada@example.org").status_code == 401


def test_a_deactivated_account_loses_its_session(app, client, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    sign_in(client, "ada@example.org")
    with app.app_context(), session_scope() as session:
        session.exec(select(User)).one().active = False
    assert "Ada Lovelace" not in client.get("/").get_data(as_text=True)


def test_forms_without_a_csrf_token_are_refused(client, make_user):
    make_user("ada@example.org")
    response = client.post("/sign-in", data={"email": "ada@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert "Sign in" in client.get("/").get_data(as_text=True), "not signed in"


def test_sign_out_needs_a_csrf_token(client, make_user):
    make_user("ada@example.org", name="Ada Lovelace")
    sign_in(client, "ada@example.org")
    assert client.post("/sign-out").status_code == 400
    assert "Ada Lovelace" in client.get("/").get_data(as_text=True), "still signed in"


def test_sign_out_is_not_a_link(client):
    assert client.get("/sign-out").status_code == 405


def test_the_session_is_renewed_at_sign_in(client, make_user):
    make_user("ada@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, "ada@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/some/page", "/some/page"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ],
)
def test_only_local_pages_are_returned_to(client, make_user, next_url, expected):
    make_user("ada@example.org")
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in",
        query_string={"next": next_url},
        data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == expected


def test_an_empty_form_names_the_missing_fields(client):
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"csrf_token": token, "email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Give your e-mail address." in html and "Give your password." in html
    assert "This field is required." not in html, "each message names its field"
    assert 'aria-invalid="true"' in html


def test_api_tokens_are_stored_hashed_and_can_be_looked_up(app, make_user):
    make_user("ada@example.org")
    with app.app_context(), session_scope() as session:
        user = service.get_user(session, "ada@example.org")
        token, record = service.create_api_token(session, user, "script")
        assert token not in record.token_hash and record.prefix == token[: len(record.prefix)]
    with app.app_context(), session_scope() as session:
        assert service.user_for_token(session, token).email == "ada@example.org"
        assert service.user_for_token(session, token + "x") is None
        assert service.user_for_token(session, "not-ours") is None
