"""Two-factor sign-in: TOTP (RFC 6238, an authenticator app) and ten single-use
recovery codes. Flush, never commit.

Who must use it is decided here and nowhere else: ``two_factor_required``.
"""

import hashlib
import hmac
import secrets

import pyotp
from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import RecoveryCode, Role, User
from portal.auth.passwords import verify_password
from portal.auth.service import roles_of
from portal.db import utcnow
from portal.errors import Conflict, Forbidden, ValidationError

ISSUER = "Stewardship Portal"
STEP_SECONDS = 30
# A code of the step before or after now is accepted too (clocks drift).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
RECOVERY_CODE_LENGTH = 12  # 60 random bits, shown as XXXX-XXXX-XXXX

# The people who decide for a Nation and sign for it, and those who run the portal.
TWO_FACTOR_ROLES = frozenset({Role.REPRESENTATIVE, Role.ADMIN})

TOTP = "totp"
RECOVERY = "recovery_code"


def two_factor_required(session: Session, user: User) -> bool:
    """Whether ``user`` must sign in with a second factor: anyone holding a role in
    TWO_FACTOR_ROLES, anywhere. The one place that decides it: the sign-in page, the
    gate that keeps such a person on the setup page, the account page and the API ask here."""
    return any(role in TWO_FACTOR_ROLES for role, _nation in roles_of(session, user))


def must_set_up(session: Session, user: User) -> bool:
    """Required but not set up yet: such a person can do nothing but set it up."""
    return not user.two_factor_enabled and two_factor_required(session, user)


# --- setting it up ----------------------------------------------------------------------


def begin_setup(session: Session, user: User) -> str:
    """The secret to enrol in an authenticator app: made once and kept until a first
    code confirms it (so reloading the page shows the same one)."""
    if user.two_factor_enabled:
        raise Conflict(_("two-factor sign-in is set up already"))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        session.add(user)
        session.flush()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def confirm_setup(session: Session, user: User, code: str) -> list[str]:
    """Turn two-factor sign-in on once a code from the app matches; returns the ten
    recovery codes, shown once (only their hashes are kept)."""
    if user.two_factor_enabled:
        raise Conflict(_("two-factor sign-in is set up already"))
    if not user.totp_secret or not _accept_totp(session, user, code):
        raise ValidationError(
            {"code": _("That code does not match: check the app's clock and try the newest code.")}
        )
    user.totp_enabled_at = utcnow()
    session.add(user)
    codes = _new_recovery_codes(session, user)
    record_event(
        session, action=EventType.TWO_FACTOR_ENABLED, actor=user, details={"user": user.email}
    )
    return codes


def enable_with_secret(session: Session, user: User, secret: str) -> None:
    """Turn it on with a secret known beforehand, without a first code: only for the
    fictional demo's logins and the tests' people (see portal/demo.py)."""
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = None
    session.add(user)
    session.flush()
    record_event(
        session,
        action=EventType.TWO_FACTOR_ENABLED,
        actor=None,
        details={"user": user.email, "known_secret": True},
    )


def disable(session: Session, user: User, password: str) -> None:
    """Turn it off (only for people who need not have it), given the password."""
    if two_factor_required(session, user):
        raise Forbidden(_("your roles require two-factor sign-in: it stays on"))
    if not verify_password(user.password_hash, password or ""):
        raise ValidationError({"password": _("That is not your password.")})
    _clear(session, user)
    record_event(
        session, action=EventType.TWO_FACTOR_DISABLED, actor=user, details={"user": user.email}
    )


def reset(session: Session, user: User, *, actor: User | None = None) -> None:
    """An administrator's recovery for a person who lost their app and their codes: the
    second factor is gone (so one whose roles require it sets it up again at the next
    sign-in), and every session of theirs ends."""
    _clear(session, user)
    user.session_version += 1
    session.add(user)
    session.flush()
    record_event(
        session, action=EventType.TWO_FACTOR_RESET, actor=actor, details={"user": user.email}
    )


def _clear(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.add(user)
    for code in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(code)
    session.flush()


def remaining_recovery_codes(session: Session, user: User) -> int:
    return len(
        session.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


# --- checking a code at sign-in ------------------------------------------------------------


def check_code(session: Session, user: User, code: str) -> str | None:
    """How ``code`` proves it is ``user``: TOTP or RECOVERY (that code is then used up),
    or None. A TOTP code is good once: a code of a step already used is refused."""
    if not user.two_factor_enabled:
        return None
    session.refresh(user, with_for_update=True)  # one sign-in at a time takes a code
    compact = _compact(code)
    if compact.isdigit():
        return TOTP if _accept_totp(session, user, compact) else None
    if len(compact) != RECOVERY_CODE_LENGTH:
        return None
    found = session.exec(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(compact),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    ).first()
    if found is None:
        return None
    found.used_at = utcnow()
    session.add(found)
    session.flush()
    record_event(
        session,
        action=EventType.RECOVERY_CODE_USED,
        actor=user,
        details={"user": user.email, "remaining": remaining_recovery_codes(session, user)},
    )
    return RECOVERY


def current_step() -> int:
    return int(utcnow().timestamp()) // STEP_SECONDS


def _accept_totp(session: Session, user: User, code: str) -> bool:
    code = _compact(code)
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            session.add(user)
            session.flush()
            return True
    return False


def _compact(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").upper()


def _hash_code(compact: str) -> str:
    return hashlib.sha256(compact.encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        compact = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(compact)))
        codes.append("-".join(compact[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
    session.flush()
    return codes
