"""Who is calling: a bearer token, and nothing else.

The API never reads the session cookie (flask-login's ``current_user`` is not used
here), so a browser that is signed in cannot be made to call it by another site:
with no cookie authority there is nothing for CSRF to abuse, and the blueprint is
exempt from the form tokens the pages need.
"""

from portal.api.problems import ApiProblem
from portal.auth.models import User
from portal.auth.service import live_token, stamp_token_use, token_use_is_stale
from portal.auth.twofactor import must_set_up
from portal.db import after_commit, get_session, session_scope

SCHEME = "bearer"


def bearer_user(authorization: str | None) -> User:
    """The active user whose live token is in the Authorization header, else a 401."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != SCHEME or not token.strip():
        raise ApiProblem(401, "Send your API token: Authorization: Bearer <token>.")
    found = live_token(get_session(), token.strip())
    if found is None:
        raise ApiProblem(
            401, "The token is not valid: unknown, revoked, or its account is deactivated."
        )
    record, user = found
    if token_use_is_stale(record):
        # In a transaction of its own once the call's has committed, so a call that
        # only reads never takes the write lock for it.
        token_id = record.id
        after_commit(lambda: _stamp(token_id))
    if must_set_up(get_session(), user):
        raise ApiProblem(
            403,
            "Your roles require two-factor sign-in: set it up on the account page "
            "(/account/two-factor) before using the API.",
        )
    return user


def _stamp(token_id: int) -> None:
    with session_scope() as session:
        stamp_token_use(session, token_id)
