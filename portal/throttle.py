"""Throttles (Flask-Limiter) on the doors people could try to force: signing in (and its
second step), asking for a password reset, every password typed again by someone signed
in (signing and attesting, on the page and the API; changing the password; turning off
two-factor sign-in) and uploads to /verify.

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
    """At sign-in only the answers to a wrong password or code count (401), and to a
    form sent incomplete (422)."""
    return response.status_code in (401, 422)


def _wrong_password_again(response) -> bool:
    """Where the password is typed again only its refusal counts (422): a request that
    is not there, not yours or not ready says nothing, and the API's 401 (no valid
    token) tried no password."""
    return response.status_code == 422


# [(setting, key function, which answers count: None for every one)]
Limits = list[tuple[str, Callable[[], str], Callable | None]]

# The password typed again by someone signed in (on the pages) or holding a token (the
# API). Every such door shares one count per account and one per address, so a door
# added later gives a guesser no more tries; tests/test_throttle.py finds every view and
# operation that checks a password and fails for one missing here.
AGAIN_SCOPE = "password_again"
_AGAIN_ON_PAGES: Limits = [
    ("LIMIT_SIGNING_PER_ACCOUNT", _signed_in_account, _wrong_password_again),
    ("LIMIT_SIGNING_PER_ADDRESS", _address, _wrong_password_again),
]
_AGAIN_ON_API: Limits = [
    ("LIMIT_SIGNING_PER_ACCOUNT", _token_account, _wrong_password_again),
    ("LIMIT_SIGNING_PER_ADDRESS", _address, _wrong_password_again),
]
_AGAIN = {
    "agreements.sign": _AGAIN_ON_PAGES,
    "lifecycle.attest": _AGAIN_ON_PAGES,
    "auth.change_password": _AGAIN_ON_PAGES,
    "auth.disable_two_factor": _AGAIN_ON_PAGES,
    "api.sign": _AGAIN_ON_API,
    "api.attest_destruction": _AGAIN_ON_API,
}

DOORS: dict[str, Limits] = {
    "auth.sign_in": [
        ("LIMIT_SIGN_IN_PER_ACCOUNT", _submitted_account, _wrong_password),
        ("LIMIT_SIGN_IN_PER_ADDRESS", _address, _wrong_password),
    ],
    "auth.sign_in_code": [
        ("LIMIT_SIGN_IN_PER_ACCOUNT", _pending_account, _wrong_password),
        ("LIMIT_SIGN_IN_PER_ADDRESS", _address, _wrong_password),
    ],
    "auth.forgot_password": [
        ("LIMIT_FORGOT_PASSWORD_PER_ACCOUNT", _submitted_account, None),
        ("LIMIT_FORGOT_PASSWORD_PER_ADDRESS", _address, None),
    ],
    **_AGAIN,
    "agreements.verify": [("LIMIT_VERIFY_PER_ADDRESS", _address, None)],
}
# Each door shares its counts with the doors of the same scope (sign-in and its code).
SCOPES = {"auth.sign_in_code": "auth.sign_in", **dict.fromkeys(_AGAIN, AGAIN_SCOPE)}


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
        for setting, key, counted in limits:
            # A shared limit: a plain one would prefix its scope with the endpoint, and
            # the doors of one scope would each keep a count of their own.
            view = limiter.shared_limit(
                _setting(setting),
                f"{SCOPES.get(endpoint, endpoint)}:{setting}",
                key_func=key,
                methods=["POST"],
                deduct_when=counted,
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
