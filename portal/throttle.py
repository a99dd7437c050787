"""Throttles (Flask-Limiter) on the doors people could try to force: signing in (and its
second step), asking for a password reset, the signing password (the page and the API)
and uploads to /verify.

Each door counts per account (the e-mail submitted, normalised, whether or not an
account has it, so the answer tells nobody which exist; or the person signed in) and per
client address. Counts live in Redis when REDIS_URL is set (every worker shares them),
else in this process's memory. The limits are settings (portal/config.py, LIMITS).
Over a limit the answer is 429 with Retry-After: a plain page, or problem+json on the API.
"""

import hashlib
from collections.abc import Callable

from flask import Flask, current_app, request, session
from flask_limiter import Limiter
from flask_login import current_user

from portal.auth.routes import PENDING_SIGN_IN  # a sign-in waiting for its code
from portal.auth.service import normalise_email, user_for_token
from portal.db import get_session, view_mode, with_view_mode
from portal.errors import ValidationError

EXTENSION_KEY = "portal.throttle"


def _address() -> str:
    return f"address:{request.remote_addr or 'unknown'}"


def _account(email: str | None) -> str:
    """The bucket of an account by its e-mail, normalised as sign-in does; the e-mail is
    hashed so the store keeps no list of addresses."""
    email = (email or "").strip()
    try:
        email = normalise_email(email)
    except ValidationError:
        email = email.lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _submitted_account() -> str:
    return _account(request.form.get("email"))


def _pending_account() -> str:
    pending = session.get(PENDING_SIGN_IN) or {}
    return _account(pending.get("email"))


def _signed_in_account() -> str:
    return _account(current_user.email if current_user.is_authenticated else "")


def _token_account() -> str:
    _scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    user = user_for_token(get_session(), token.strip()) if token.strip() else None
    return _account(user.email if user else "")


def _wrong_password(response) -> bool:
    """Only answers that tell a password (or code) was wrong count: 401 at sign-in, 422
    when signing (a request that is not there, not yours or not ready says nothing)."""
    return response.status_code in (401, 422)


# endpoint -> [(setting, key function, count only wrong passwords)]
DOORS: dict[str, list[tuple[str, Callable[[], str], bool]]] = {
    "auth.sign_in": [
        ("LIMIT_SIGN_IN_PER_ACCOUNT", _submitted_account, True),
        ("LIMIT_SIGN_IN_PER_ADDRESS", _address, True),
    ],
    "auth.sign_in_code": [
        ("LIMIT_SIGN_IN_PER_ACCOUNT", _pending_account, True),
        ("LIMIT_SIGN_IN_PER_ADDRESS", _address, True),
    ],
    "auth.forgot_password": [
        ("LIMIT_FORGOT_PASSWORD_PER_ACCOUNT", _submitted_account, False),
        ("LIMIT_FORGOT_PASSWORD_PER_ADDRESS", _address, False),
    ],
    "agreements.sign": [
        ("LIMIT_SIGNING_PER_ACCOUNT", _signed_in_account, True),
        ("LIMIT_SIGNING_PER_ADDRESS", _address, True),
    ],
    "api.sign": [
        ("LIMIT_SIGNING_PER_ACCOUNT", _token_account, True),
        ("LIMIT_SIGNING_PER_ADDRESS", _address, True),
    ],
    # Attesting destruction re-enters the password too, counted with signing.
    "api.attest_destruction": [
        ("LIMIT_SIGNING_PER_ACCOUNT", _token_account, True),
        ("LIMIT_SIGNING_PER_ADDRESS", _address, True),
    ],
    "agreements.verify": [("LIMIT_VERIFY_PER_ADDRESS", _address, False)],
}
# Each door shares its counts with the doors of the same scope (sign-in and its code).
SCOPES = {"auth.sign_in_code": "auth.sign_in", "api.attest_destruction": "api.sign"}


def init_app(app: Flask) -> None:
    """Give ``app`` its own limiter and put the doors' limits on its views (call it once
    every blueprint is registered)."""
    limiter = Limiter(
        _address,
        app=app,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "portal"),
        headers_enabled=True,
        strategy="moving-window",
    )
    app.extensions[EXTENSION_KEY] = limiter
    for endpoint, limits in DOORS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        view = _renamed(view, endpoint)
        for setting, key, failures_only in limits:
            view = limiter.limit(
                _setting(setting),
                key_func=key,
                methods=["POST"],
                deduct_when=_wrong_password if failures_only else None,
                scope=f"{SCOPES.get(endpoint, endpoint)}:{setting}",
            )(view)
        app.view_functions[endpoint] = view


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _renamed(view: Callable, endpoint: str) -> Callable:
    """A wrapper of ``view`` with a name of its own: Flask-Limiter files limits by the
    view's qualified name, and the API's views all share one."""

    def throttled(*args, **kwargs):
        return view(*args, **kwargs)

    throttled.__name__ = throttled.__qualname__ = "door_" + endpoint.replace(".", "_")
    throttled.__module__ = __name__
    return with_view_mode(throttled, view_mode(view))  # how it uses the database


def reset(app: Flask) -> None:
    """Forget every count (tests and operators)."""
    app.extensions[EXTENSION_KEY].reset()
