"""Two-factor sign-in: set up from the account page with a QR code, asked before the
session starts, recovery codes good once, and required of representatives and admins
(decided in one place), who can do nothing else until it is set up."""

import re

import pyotp
import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.auth import twofactor
from portal.auth.models import RecoveryCode, User
from portal.db import session_scope

from helpers import PASSWORD, TOTP_SECRET, csrf_token, sign_in, totp_code


def password_step(client, email: str, password: str = PASSWORD):
    token = csrf_token(client.get("/sign-in").text)
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def give_code(client, code: str):
    token = csrf_token(client.get("/sign-in/code").text)
    return client.post("/sign-in/code", data={"code": code, "csrf_token": token})


def signed_in(client) -> bool:
    return "Signed in as" in client.get("/").text


def kinds(app) -> list[str]:
    with app.app_context(), session_scope() as session:
        return list(session.exec(select(AuditEvent.action).order_by(AuditEvent.id)))


def user(app, email: str) -> User:
    with app.app_context(), session_scope() as session:
        found = session.exec(select(User).where(User.email == email)).one()
        session.expunge(found)
        return found


def enrol(client, app) -> list[str]:
    """Set up two-factor sign-in through the pages; the recovery codes shown."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    assert 'src="data:image/svg+xml' in html, "the QR code is drawn by the portal itself"
    wrong = client.post(
        "/account/two-factor", data={"code": "000000", "csrf_token": csrf_token(html)}
    )
    assert wrong.status_code == 422 and "does not match" in wrong.text
    code = pyotp.TOTP(secret).now()
    done = client.post("/account/two-factor", data={"code": code, "csrf_token": csrf_token(html)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return codes


def test_anyone_may_set_it_up_and_is_then_asked_for_a_code(app, client, make_user):
    make_user("ada@example.org", "researcher", name="Ada Lovelace")
    sign_in(client, "ada@example.org")
    assert "Set up two-factor sign-in" in client.get("/account").text
    codes = enrol(client, app)
    stored = user(app, "ada@example.org")
    assert stored.two_factor_enabled
    with app.app_context(), session_scope() as session:
        hashes = session.exec(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in codes for h in hashes)

    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    response = password_step(client, "ada@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in/code"
    assert not signed_in(client), "no session before the code"
    assert client.get("/account").status_code == 302
    assert give_code(client, "123456").status_code == 401
    assert not signed_in(client)
    assert give_code(client, totp_code(app, "ada@example.org")).status_code == 302
    assert signed_in(client)
    assert kinds(app).count("user.sign_in_failed") == 1
    assert kinds(app)[-1] == "user.signed_in"


def test_a_code_is_good_once(app, nations, make_user):
    make_user("rep@example.org", ("representative", "red-cedar"))
    first, second = app.test_client(), app.test_client()
    code = totp_code(app, "rep@example.org")
    password_step(first, "rep@example.org")
    password_step(second, "rep@example.org")
    assert give_code(first, code).status_code == 302
    assert give_code(second, code).status_code == 401, "the same code again is refused"


def test_a_recovery_code_signs_in_once(app, make_user):
    make_user("ada@example.org", "researcher")
    client = app.test_client()
    sign_in(client, "ada@example.org")
    codes = enrol(client, app)
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})

    password_step(client, "ada@example.org")
    done = give_code(client, codes[3].lower().replace("-", " "))  # typed loosely
    assert done.status_code == 302
    home = client.get("/").text
    assert "Signed in as" in home and "9 are left" in home
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    password_step(client, "ada@example.org")
    assert give_code(client, codes[3]).status_code == 401, "used up"
    assert not signed_in(client)
    assert "user.signed_in" in kinds(app) and "two_factor.recovery_code_used" in kinds(app)


def test_the_code_step_needs_the_password_step_and_expires(app, client, nations, make_user):
    make_user("rep@example.org", ("representative", "red-cedar"))
    assert client.get("/sign-in/code").status_code == 302
    from datetime import UTC, datetime, timedelta

    from portal.db import pinned_clock

    start = datetime.now(UTC)
    with pinned_clock(start):
        password_step(client, "rep@example.org")
    with pinned_clock(start + timedelta(minutes=6)):
        response = client.get("/sign-in/code")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


@pytest.mark.parametrize(
    "role", [("representative", "red-cedar"), "admin"], ids=["representative", "admin"]
)
def test_representatives_and_admins_must_set_it_up_before_anything_else(
    app, client, nations, make_user, role
):
    make_user("boss@example.org", role, name="Boss", two_factor=False)
    response = password_step(client, "boss@example.org")
    assert response.headers["Location"] == "/account/two-factor"
    for path in ("/", "/account", "/account/tokens", "/dashboard", "/nations/red-cedar/record"):
        held = client.get(path)
        assert held.status_code == 302 and held.headers["Location"] == "/account/two-factor", path
    page = client.get("/account/two-factor")
    assert "Your roles decide for a Nation or run the portal" in page.text
    enrol(client, app)
    assert client.get("/").status_code == 200
    assert "stays on" in client.get("/account").text, "it cannot be turned off"
    token = csrf_token(client.get("/account").text)
    assert (
        client.post(
            "/account/two-factor/disable", data={"password": PASSWORD, "csrf_token": token}
        ).status_code
        == 403
    )
    assert user(app, "boss@example.org").two_factor_enabled


def test_who_must_use_it_is_decided_by_the_roles(app, nations, make_user):
    people = {
        "r@example.org": ["researcher"],
        "c@example.org": ["coordinator"],
        "s@example.org": [("steward", "red-cedar")],
        "rep@example.org": [("representative", "blue-heron")],
        "a@example.org": ["admin"],
        "ca@example.org": ["coordinator", "admin"],
    }
    for email, roles in people.items():
        make_user(email, *roles, two_factor=False)
    with app.app_context(), session_scope() as session:
        required = {
            email
            for email in people
            if twofactor.two_factor_required(
                session, session.exec(select(User).where(User.email == email)).one()
            )
        }
    assert required == {"rep@example.org", "a@example.org", "ca@example.org"}


def test_a_role_granted_later_takes_the_person_to_the_setup(app, client, nations, make_user):
    from portal.auth import service
    from portal.registry import service as registry

    make_user("ada@example.org", "researcher")
    sign_in(client, "ada@example.org")
    assert client.get("/").status_code == 200
    with app.app_context(), session_scope() as session:
        ada = service.get_user(session, "ada@example.org")
        service.grant_role(
            session, ada, "representative", registry.get_nation(session, "red-cedar")
        )
    assert client.get("/").headers["Location"] == "/account/two-factor"


def test_the_api_refuses_a_token_until_it_is_set_up(app, client, make_user):
    from portal.auth import service

    make_user("admin@example.org", "admin", two_factor=False)
    with app.app_context(), session_scope() as session:
        token, _ = service.create_api_token(session, service.get_user(session, "admin@example.org"))
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403 and "two-factor" in answer.get_json()["detail"]
    with app.app_context(), session_scope() as session:
        twofactor.enable_with_secret(
            session, service.get_user(session, "admin@example.org"), TOTP_SECRET
        )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_someone_not_required_may_turn_it_off_with_the_password(app, client, make_user):
    make_user("ada@example.org", "researcher")
    sign_in(client, "ada@example.org")
    enrol(client, app)
    token = csrf_token(client.get("/account").text)
    wrong = client.post(
        "/account/two-factor/disable", data={"password": "not mine at all", "csrf_token": token}
    )
    assert wrong.status_code == 422 and user(app, "ada@example.org").two_factor_enabled
    done = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "csrf_token": token}
    )
    assert done.status_code == 302 and not user(app, "ada@example.org").two_factor_enabled
    assert "two_factor.disabled" in kinds(app)


def test_an_administrator_resets_a_lost_second_factor(app, runner, nations, make_user):
    make_user("rep@example.org", ("representative", "red-cedar"))
    client = app.test_client()
    sign_in(client, "rep@example.org")
    assert signed_in(client)
    result = runner.invoke(args=["users", "reset-2fa", "REP@example.org"])
    assert result.exit_code == 0, result.output
    assert not signed_in(client), "their sessions ended"
    assert not user(app, "rep@example.org").two_factor_enabled
    response = password_step(client, "rep@example.org")
    assert response.headers["Location"] == "/account/two-factor", "they set it up again"
    assert "two_factor.reset" in kinds(app)
    assert runner.invoke(args=["users", "reset-2fa", "ghost@example.org"]).exit_code == 1
