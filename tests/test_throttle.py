"""Throttles on signing in, password resets, the signing password (page and API) and
/verify: per account and per client address, 429 with Retry-After, and the same answer
whether or not an account exists. In memory, and once in a real Redis."""

import json
import os
import re
import uuid

import pytest

from portal import create_app

from helpers import PASSWORD, csrf_token, redis_test_url, sign_in

REDIS_URL = os.environ.get("TEST_REDIS_URL", redis_test_url(0))  # 0, 1


def make_app(database_url, instance_path, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance_path),
            "SESSION_COOKIE_SECURE": False,
            "MAIL_SEND_AFTER_REQUEST": False,
            **config,
        }
    )


@pytest.fixture
def limited(database_url, instance_path):
    """An app with small limits (the conftest's app keeps the defaults)."""
    made = []

    def build(**limits):
        app = make_app(database_url, instance_path, **limits)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["portal.db"].dispose()


def people(app):
    from portal.auth import service
    from portal.db import session_scope

    with app.app_context(), session_scope() as session:
        service.create_user(session, "ada@example.org", "Ada", PASSWORD)
        service.create_user(session, "grace@example.org", "Grace", PASSWORD)


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def assert_throttled(response, api: bool = False):
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    if api:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 429
    else:
        body = response.get_data(as_text=True)
        assert response.mimetype == "text/html" and "Too many attempts" in body
        assert "Traceback" not in body


def test_sign_in_is_throttled_per_account_whether_or_not_it_exists(limited):
    app = limited(LIMIT_SIGN_IN_PER_ACCOUNT="3 per 15 minutes")
    people(app)
    answers = {}
    for email in ("ada@example.org", "nobody@example.org"):
        for n in range(3):  # from three addresses: the account's count holds across them
            client = from_address(app, f"192.0.2.{n + 1}")
            assert sign_in(client, email, "wrong password!").status_code == 401
        client = from_address(app, "192.0.2.9")
        over = sign_in(client, email.upper(), PASSWORD)  # even the right password waits
        assert_throttled(over)
        # Every page's language switch holds the session's own CSRF token: not the account's.
        page = re.sub(r'name="csrf_token" value="[^"]*"', "", over.get_data(as_text=True))
        answers[email] = (over.status_code, page)
    assert answers["ada@example.org"] == answers["nobody@example.org"], "nothing tells them apart"
    # Another account from the same addresses is not held back.
    assert sign_in(from_address(app, "192.0.2.1"), "grace@example.org").status_code == 302


def test_sign_in_is_throttled_per_address_and_counts_failures_only(limited):
    app = limited(LIMIT_SIGN_IN_PER_ADDRESS="3 per 15 minutes")
    people(app)
    client = from_address(app, "198.51.100.1")
    for _ in range(4):  # successes do not count
        assert sign_in(client, "grace@example.org").status_code == 302
        client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    for n in range(3):
        assert sign_in(client, f"guess{n}@example.org", "guess").status_code == 401
    assert_throttled(sign_in(client, "ada@example.org", PASSWORD))
    assert sign_in(from_address(app, "198.51.100.2"), "ada@example.org").status_code == 302
    assert client.get("/sign-in").status_code == 200, "reading the page is not counted"


def test_forgot_password_is_throttled_per_account_and_per_address(limited):
    app = limited(
        LIMIT_FORGOT_PASSWORD_PER_ACCOUNT="2 per hour",
        LIMIT_FORGOT_PASSWORD_PER_ADDRESS="4 per hour",
    )
    people(app)

    def ask(client, email):
        token = csrf_token(client.get("/forgot-password").text)
        return client.post("/forgot-password", data={"csrf_token": token, "email": email})

    for email in ("ada@example.org", "nobody@example.org"):
        for n in range(2):
            assert ask(from_address(app, f"203.0.113.{n}"), email).status_code == 200
        assert_throttled(ask(from_address(app, "203.0.113.50"), email))
    client = from_address(app, "203.0.113.99")
    for n in range(4):
        assert ask(client, f"someone{n}@example.org").status_code == 200
    assert_throttled(ask(client, "grace@example.org"))


@pytest.fixture
def awaiting(limited_flow):
    """A request awaiting signatures, in an app whose signing limit is 2 failures."""
    app, flow = limited_flow
    return app, flow.approved()


@pytest.fixture
def limited_flow(limited):
    """The people of tests/flows.py in an app whose limit on a password typed again
    (signing, attesting, the account page) is 2 failures."""
    from flows import PEOPLE, Flow
    from helpers import seed_nations

    app = limited(LIMIT_SIGNING_PER_ACCOUNT="2 per 15 minutes")
    seed_nations(app)
    from portal.auth import service
    from portal.db import session_scope
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session:
        for email, roles in PEOPLE.values():
            user = service.create_user(session, email, email.split("@")[0], PASSWORD)
            for role in roles:
                role, slug = role if isinstance(role, tuple) else (role, None)
                service.grant_role(
                    session, user, role, registry.get_nation(session, slug) if slug else None
                )
    return app, Flow(app)


def test_the_signing_password_is_throttled_on_the_page(awaiting):
    app, ref = awaiting
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}").text

    def sign(password):
        return client.post(
            f"/requests/{ref}/sign", data={"csrf_token": csrf_token(page), "password": password}
        )

    assert sign("not my password").status_code == 422
    assert sign("not my password").status_code == 422
    assert_throttled(sign(PASSWORD))


def test_the_signing_password_is_throttled_on_the_api(awaiting):
    from portal.auth import service
    from portal.db import session_scope

    app, ref = awaiting
    with app.app_context(), session_scope() as session:
        token, _ = service.create_api_token(
            session, service.get_user(session, "researcher@example.org")
        )
    client = app.test_client()

    def sign(password):
        return client.post(
            f"/api/v1/requests/{ref}/actions/sign",
            data=json.dumps({"password": password}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )

    assert sign("not my password").status_code == 422
    assert sign("not my password").status_code == 422
    assert_throttled(sign(PASSWORD), api=True)


def test_verify_uploads_are_throttled_per_address(limited):
    app = limited(LIMIT_VERIFY_PER_ADDRESS="2 per hour")
    client = from_address(app, "192.0.2.77")
    page = client.get("/verify").text
    for _ in range(2):
        assert client.post("/verify", data={"csrf_token": csrf_token(page)}).status_code == 422
    assert_throttled(client.post("/verify", data={"csrf_token": csrf_token(page)}))
    assert client.get("/verify").status_code == 200
    other = from_address(app, "192.0.2.78")
    assert other.post("/verify", data={"csrf_token": csrf_token(page)}).status_code != 429


def test_every_worker_shares_the_counts_in_redis(limited):
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"portal-test-{uuid.uuid4().hex[:12]}"
    config = dict(
        REDIS_URL=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        LIMIT_SIGN_IN_PER_ACCOUNT="3 per 15 minutes",
    )
    first, second = limited(**config), limited(**config)  # two workers
    people(first)
    try:
        assert sign_in(first.test_client(), "ada@example.org", "wrong!").status_code == 401
        assert sign_in(second.test_client(), "ada@example.org", "wrong!").status_code == 401
        assert sign_in(first.test_client(), "ada@example.org", "wrong!").status_code == 401
        assert_throttled(sign_in(second.test_client(), "ada@example.org", PASSWORD))
        keys = list(server.scan_iter(f"*{prefix}*"))
        assert keys, "the counts are in Redis"
        assert not any(b"ada@example.org" in key for key in keys), "e-mails are not kept there"
    finally:
        for key in server.scan_iter(f"*{prefix}*"):  # only this test's own keys
            server.delete(key)


# --- every other door that checks the password (found in a probe: the attestation page,
# the password change and turning off two-factor sign-in answered every wrong try) ------


def signed_in_researcher(app):
    client = app.test_client()
    assert sign_in(client, "researcher@example.org").status_code == 302
    return client


def test_the_attestation_password_is_throttled_on_the_page(limited_flow):
    app, flow = limited_flow
    ref = flow.ended()
    client = signed_in_researcher(app)
    page = client.get(f"/requests/{ref}/end/attest").text
    fields = {
        "what": "Every extract",
        "method": "Secure erase",
        "done_on": "2026-01-05",
        "done_by": "Robin Researcher (fictional)",
        "csrf_token": csrf_token(page),
    }

    def attest(password):
        return client.post(f"/requests/{ref}/end/attest", data={**fields, "password": password})

    assert attest("not my password").status_code == 422
    assert attest("not my password").status_code == 422
    assert_throttled(attest(PASSWORD))
    assert flow.status(ref) == "active", "nothing was signed"


def test_the_current_password_is_throttled_on_the_account_page(limited_flow):
    app, _flow = limited_flow
    client = signed_in_researcher(app)
    token = csrf_token(client.get("/account").text)

    def change(current):
        new = "a brand new passphrase"
        return client.post(
            "/account/password",
            data={"current_password": current, "new_password": new, "confirm": new}
            | {"csrf_token": token},
        )

    assert change("not my password").status_code == 422
    assert change("not my password").status_code == 422
    assert_throttled(change(PASSWORD))
    fresh = app.test_client()
    assert sign_in(fresh, "researcher@example.org").status_code == 302, "still the old one"


def test_turning_off_two_factor_sign_in_is_throttled(limited_flow):
    from portal.auth import service, twofactor
    from portal.db import session_scope

    from helpers import TOTP_SECRET

    app, _flow = limited_flow
    with app.app_context(), session_scope() as session:
        user = service.get_user(session, "researcher@example.org")
        twofactor.enable_with_secret(session, user, TOTP_SECRET)
    client = signed_in_researcher(app)
    token = csrf_token(client.get("/account").text)

    def disable(password):
        data = {"password": password, "csrf_token": token}
        return client.post("/account/two-factor/disable", data=data)

    assert disable("not my password").status_code == 422
    assert disable("not my password").status_code == 422
    assert_throttled(disable(PASSWORD))
    with app.app_context(), session_scope() as session:
        assert service.get_user(session, "researcher@example.org").two_factor_enabled


def test_the_doors_of_a_password_typed_again_share_one_count(limited_flow):
    """A guesser gets no more tries from one more door: a wrong password on the account
    page counts toward signing (and the API's), and the other way round."""
    app, flow = limited_flow
    ref = flow.approved()
    client = signed_in_researcher(app)
    token = csrf_token(client.get("/account").text)
    wrong = {"current_password": "nope", "new_password": "x" * 12, "confirm": "x" * 12}
    assert client.post("/account/password", data={**wrong, "csrf_token": token}).status_code == 422
    signing = {"password": "nope", "csrf_token": token}
    assert client.post(f"/requests/{ref}/sign", data=signing).status_code == 422
    assert_throttled(client.post(f"/requests/{ref}/sign", data={**signing, "password": PASSWORD}))


def password_forms() -> set[str]:
    """The page forms that ask the person's own password (a form with ``confirm`` sets a
    new one instead: the reset link, an invitation's new account)."""
    from flask_wtf import FlaskForm
    from wtforms import PasswordField

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = set()
    for form in subclasses(FlaskForm):
        names = {
            name
            for name in dir(form)
            if getattr(getattr(form, name), "field_class", None) is PasswordField
        }
        if "current_password" in names or ("password" in names and "confirm" not in names):
            found.add(form.__name__)
    return found


def password_doors(app) -> set[str]:
    """Every endpoint that checks the person's password: the page views that read one of
    ``password_forms()``, and the API operations whose body carries a password."""
    import importlib
    import inspect

    from portal.api.table import ENDPOINTS

    forms = password_forms()
    found = {f"api.{e.name}" for e in ENDPOINTS if e.body and "password" in e.body.model_fields}
    for rule in app.url_map.iter_rules():
        blueprint, _, name = rule.endpoint.rpartition(".")
        if "POST" not in rule.methods or not blueprint or blueprint == "api":
            continue
        module = importlib.import_module(app.blueprints[blueprint].import_name)
        source = inspect.getsource(getattr(module, name))  # the view itself, unwrapped
        if any(re.search(rf"\b{form}\(", source) for form in forms):
            found.add(rule.endpoint)
    return found


def test_every_door_that_checks_a_password_is_throttled(app):
    from portal.throttle import DOORS

    doors = password_doors(app)
    assert {
        "auth.sign_in",
        "agreements.sign",
        "lifecycle.attest",
        "auth.change_password",
        "auth.disable_two_factor",
        "api.sign",
        "api.attest_destruction",
    } <= doors, "the search finds the doors known"
    for endpoint in doors:
        limits = DOORS.get(endpoint, [])
        settings = {setting.rsplit("_PER_", 1)[1] for setting, _key, failures in limits if failures}
        assert settings == {"ACCOUNT", "ADDRESS"}, f"{endpoint}: per account and per address"
    unknown = set(DOORS) - set(app.view_functions)
    assert not unknown, f"doors with no view (a typo would leave them open): {unknown}"
