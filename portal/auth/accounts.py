"""Signing in and out, sessions, and passwords: resets by e-mail and changes. Flush,
never commit.

A person's sessions live in signed cookies; what ends them on the server is the
``session_version`` of their account, stored in the session at sign-in and compared on
every request (``portal/auth/routes.py``, ``load_user``). Bumping it (signing out, a new
password, deactivation, an administrator's reset of the second factor) ends every
session of that person at once.

API tokens outlive sessions (a script's token must survive its owner signing out), but
not the account being taken back: a new password (reset or changed) and ending the other
sessions revoke every token too, so whoever once had the account loses its API as well.
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import PasswordResetToken, User
from portal.auth.passwords import hash_password, verify_password
from portal.auth.service import (
    check_password_rules,
    find_user,
    normalise_email,
    revoke_every_token,
)
from portal.db import utcnow
from portal.errors import NotFound, ValidationError
from portal.i18n import LANGUAGES
from portal.notify.service import queue, render

RESET_LIFETIME = timedelta(hours=1)
MAX_EMAIL_LENGTH = 254


def _hash(token: str) -> str:
    # Reset tokens carry 256 random bits: a fast hash is as safe as a slow one.
    return hashlib.sha256(token.encode()).hexdigest()


def _email_tried(email: str) -> str:
    return (email or "").strip().lower()[:MAX_EMAIL_LENGTH]


# --- signing in and out ----------------------------------------------------------------


def record_sign_in(session: Session, user: User, method: str) -> None:
    """``method``: how the person proved who they are (password, totp, recovery_code)."""
    record_event(
        session,
        action=EventType.USER_SIGNED_IN,
        actor=user,
        details={"user": user.email, "method": method},
    )


def record_failed_sign_in(session: Session, email: str, stage: str) -> None:
    """A wrong password (``stage`` "password") or second factor ("code"). The record keeps
    the address the attempt came from and the e-mail tried, never the password; the
    account's id only when there is such an account."""
    tried = _email_tried(email)
    details: dict = {"email": tried, "stage": stage}
    account = find_user(session, tried) if tried else None
    if account is not None:
        details["user_id"] = account.id
    record_event(session, action=EventType.USER_SIGN_IN_FAILED, actor=None, details=details)


def _bump(session: Session, user: User) -> None:
    user.session_version += 1
    session.add(user)
    session.flush()


def sign_out(session: Session, user: User) -> None:
    """End every session of ``user``: the cookie of this one, and any other, stop working."""
    _bump(session, user)
    record_event(
        session, action=EventType.USER_SIGNED_OUT, actor=user, details={"user": user.email}
    )


def end_other_sessions(session: Session, user: User) -> int:
    """End every session of ``user``, and every API token; returns the new version, for
    the caller's own session to keep (it stays signed in)."""
    _bump(session, user)
    record_event(
        session, action=EventType.USER_SESSIONS_ENDED, actor=user, details={"user": user.email}
    )
    # The button for a login used elsewhere (a lost laptop, a shared account): a token
    # made there would otherwise keep the access the sessions just lost.
    revoke_every_token(session, user, because=EventType.USER_SESSIONS_ENDED)
    return user.session_version


def set_active(session: Session, user: User, active: bool, *, actor: User | None = None) -> bool:
    """Deactivate or reactivate a login (never delete it: the record keeps the person);
    returns whether anything changed. Deactivating ends every session and revokes every
    API token, so reactivating gives back the sign-in and nothing a past holder of the
    login kept; the policy refuses a deactivated person every action."""
    if user.active == active:
        return False
    user.active = active
    _bump(session, user)
    event = EventType.USER_REACTIVATED if active else EventType.USER_DEACTIVATED
    record_event(session, action=event, actor=actor, details={"user": user.email})
    if not active:
        revoke_every_token(session, user, because=event)
    return True


def deactivate_user(session: Session, user: User, *, actor: User | None = None) -> None:
    """No more sign-ins, sessions or API tokens for ``user`` (their record stays)."""
    set_active(session, user, False, actor=actor)


# --- forgotten passwords -----------------------------------------------------------------


def request_password_reset(session: Session, email: str, link_for: Callable[[str], str]) -> None:
    """Mail a one-hour, single-use link to set a new password, if ``email`` is an active
    account's. The caller answers the same either way; the work done is the same too
    (a token made and hashed, the mail rendered, one event recorded), so neither the
    answer nor its timing tells whether the account exists."""
    tried = _email_tried(email)
    try:
        user = find_user(session, normalise_email(tried))
    except ValidationError:
        user = None
    if user is not None and not user.active:
        user = None
    token = secrets.token_urlsafe(32)
    token_hash = _hash(token)
    link = link_for(token)
    details: dict = {"email": tried}
    if user is None:
        render("password_reset", user=User(email=tried, name="", password_hash=""), link=link)
    else:
        now = utcnow()
        session.add(
            PasswordResetToken(
                user_id=user.id,
                token_hash=token_hash,
                created_at=now,
                expires_at=now + RESET_LIFETIME,
            )
        )
        session.flush()
        queue(session, [user], "password_reset", link=link, hours=1)
        details["user_id"] = user.id
    record_event(session, action=EventType.PASSWORD_RESET_REQUESTED, actor=None, details=details)


def _live_reset(session: Session, token: str, *, lock: bool = False) -> PasswordResetToken | None:
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == _hash(token or ""))
    record = session.exec(query.with_for_update() if lock else query).first()
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
        return None
    return record


def reset_link_user(session: Session, token: str) -> User | None:
    """The active person a reset link is for, if it is still good; else None."""
    record = _live_reset(session, token)
    user = session.get(User, record.user_id) if record else None
    return user if user is not None and user.active else None


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password from a reset link: the link (and any other of this person's)
    stops working, and so do every session and API token. NotFound for a link that is unknown, used
    or over an hour old; ValidationError for a password that breaks the rules."""
    record = _live_reset(session, token, lock=True)
    user = session.get(User, record.user_id) if record else None
    if user is None or not user.active:
        raise NotFound("this link is not valid (any more)")
    check_password_rules(new_password)
    now = utcnow()
    for other in session.exec(
        select(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
        )
    ):
        other.used_at = now
        session.add(other)
    _set_password(session, user, new_password, EventType.PASSWORD_RESET)
    return user


def change_password(session: Session, user: User, current: str, new_password: str) -> int:
    """Change ``user``'s password, given the current one; every session and API token of
    theirs ends. Returns the new session version, for the caller's own session to keep."""
    if not verify_password(user.password_hash, current or ""):
        raise ValidationError({"current_password": _("That is not your current password.")})
    check_password_rules(new_password)
    _set_password(session, user, new_password, EventType.PASSWORD_CHANGED)
    return user.session_version


def set_language(session: Session, user: User, language: str) -> None:
    """The language the portal speaks to ``user`` from now on, on pages and in mail."""
    if language not in LANGUAGES:
        raise ValidationError({"language": _("Choose English or French.")})
    user.language = language
    session.add(user)
    session.flush()


def _set_password(session: Session, user: User, new_password: str, event: EventType) -> None:
    user.password_hash = hash_password(new_password)
    _bump(session, user)
    record_event(session, action=event, actor=user, details={"user": user.email})
    # A new password is how an account is recovered: a token made by whoever had the old
    # one must end with it (tokens never ask the second factor either).
    revoke_every_token(session, user, because=event)
    queue(session, [user], "password_changed")
