"""Accounts, roles and API tokens: the rules, with no Flask in sight. Flush, never commit."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlmodel import Session, select

from portal import validation
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import NATION_ROLES, ApiToken, Role, RoleMembership, User
from portal.auth.passwords import hash_password, needs_rehash, verify_password
from portal.db import TransactionCache, utcnow
from portal.errors import Conflict, NotFound, Refused, ValidationError
from portal.registry.models import Nation

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "spt_"  # noqa: S105 (a marker, not a secret) so scanners and people recognise our tokens


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationError({"email": validation.email_reason(error)}) from None


def check_password_rules(password: str) -> None:
    if not password:
        raise ValidationError({"password": _("The password is empty.")})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            {
                "password": _(
                    "The password must be at least %(count)s characters long.",
                    count=MIN_PASSWORD_LENGTH,
                )
            }
        )


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user with e-mail address {email.strip()!r}")
    return user


def create_user(
    session: Session,
    email: str,
    name: str,
    password: str,
    institution: str = "",
    *,
    actor: User | None = None,
) -> User:
    email = normalise_email(email)
    errors: dict[str, str] = {}
    name = validation.text(errors, "name", name, "name", max_length=200)
    institution = validation.text(
        errors, "institution", institution, "institution", max_length=200, required=False
    )
    if errors:
        raise ValidationError(errors)
    check_password_rules(password)
    if find_user(session, email) is not None:
        raise Conflict(_("a user with e-mail address %(email)s exists already", email=repr(email)))
    user = User(
        email=email,
        name=name,
        institution=institution,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    record_event(session, action=EventType.USER_CREATED, actor=actor, details={"user": user.email})
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, else None (never says which was wrong)."""
    user = find_user(session, email)
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        return None
    if needs_rehash(user.password_hash):  # parameters were raised since this hash was made
        user.password_hash = hash_password(password)
        session.add(user)
    return user


def grant_role(
    session: Session,
    user: User,
    role: Role | str,
    nation: Nation | None = None,
    *,
    actor: User | None = None,
) -> RoleMembership:
    """Give ``user`` a role; stewards and representatives need their Nation. Idempotent:
    only a new membership is recorded. ``actor`` is who grants it (None: the system).
    Takes effect for the next request in every worker (the policy version is bumped)."""
    role = _check_role_scope(role, nation)
    existing = find_membership(session, user, role, nation)
    if existing is not None:
        return existing
    keep_apart(session, user, role)
    membership = RoleMembership(user_id=user.id, role=role, nation_id=nation.id if nation else None)
    session.add(membership)
    session.flush()
    _role_changed(session, EventType.ROLE_GRANTED, actor, user, role, nation)
    return membership


def revoke_role(
    session: Session,
    user: User,
    role: Role | str,
    nation: Nation | None = None,
    *,
    actor: User | None = None,
) -> None:
    """Take a role away; takes effect for the next request in every worker."""
    role = _check_role_scope(role, nation)
    membership = find_membership(session, user, role, nation)
    if membership is None:
        where = f" of {nation.name}" if nation else ""
        raise NotFound(f"{user.email} is not a {role}{where}")
    session.delete(membership)
    session.flush()
    _role_changed(session, EventType.ROLE_REVOKED, actor, user, role, nation)


def _role_changed(
    session: Session, action: str, actor: User | None, user: User, role: Role, nation: Nation | None
) -> None:
    """A role was granted or taken away: every worker notices (the policy store bumps
    its version when the membership is flushed), and the record says so."""
    record_event(
        session,
        action=action,
        actor=actor,
        nations=[nation] if nation else [],
        details={"user": user.email, "role": role.value, "nation": nation.slug if nation else None},
    )


def keep_apart(session: Session, user: User, role: Role) -> None:
    """An administrator never acts for a Nation (ARCHITECTURE.md, "Roles": "never decide
    for a Nation"): one login does not hold both, or an administrator could register
    Nations, appoint themself their representative and outvote the member Nations on the
    rules."""
    held = {held_role for held_role, _nation in roles_of(session, user)}
    if role in NATION_ROLES and Role.ADMIN in held:
        raise Refused(
            _(
                "%(email)s administers the portal, and an administrator never acts for a "
                "Nation: give the Nation's role to another login.",
                email=user.email,
            )
        )
    if role == Role.ADMIN and held & NATION_ROLES:
        raise Refused(
            _(
                "%(email)s acts for a Nation, and an administrator never does: give the "
                "administrator role to another login.",
                email=user.email,
            )
        )


def _check_role_scope(role: Role | str, nation: Nation | None) -> Role:
    role = Role(role)
    if role in NATION_ROLES and nation is None:
        raise ValidationError({"nation": _("A %(role)s acts for one Nation: name it.", role=role)})
    if role not in NATION_ROLES and nation is not None:
        raise ValidationError(
            {"nation": _("A %(role)s acts portal-wide, not for one Nation.", role=role)}
        )
    return role


def find_membership(
    session: Session, user: User, role: Role, nation: Nation | None
) -> RoleMembership | None:
    in_nation = (
        RoleMembership.nation_id == nation.id
        if nation is not None
        else RoleMembership.nation_id.is_(None)
    )
    return session.exec(
        select(RoleMembership).where(
            RoleMembership.user_id == user.id, RoleMembership.role == role, in_nation
        )
    ).first()


# Per transaction: every page asks a person's roles several times (the two-factor gate,
# the navigation, who may read the rules).
_roles = TransactionCache("portal.auth.roles", (RoleMembership,))


def roles_of(session: Session, user: User) -> list[tuple[Role, Nation | None]]:
    """Every role ``user`` holds, portal-wide ones first, then by Nation name."""
    if (found := _roles(session).get(user.id)) is None:
        found = _roles(session)[user.id] = roles_of_each(session, [user])[user.id]
    return list(found)


def roles_of_each(
    session: Session, users: list[User]
) -> dict[int, list[tuple[Role, Nation | None]]]:
    """``roles_of`` for many people in one query (a list of people reads them all at once)."""
    found: dict[int, list[tuple[Role, Nation | None]]] = {user.id: [] for user in users}
    if not found:
        return found
    rows = session.exec(
        select(RoleMembership, Nation)
        .join(Nation, RoleMembership.nation_id == Nation.id, isouter=True)
        .where(RoleMembership.user_id.in_(list(found)))
    )
    for membership, nation in rows:
        found[membership.user_id].append((membership.role, nation))
    return {
        user_id: sorted(
            pairs, key=lambda pair: (pair[1] is not None, pair[1].name if pair[1] else "", pair[0])
        )
        for user_id, pairs in found.items()
    }


def _hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is as safe as a slow one here
    # and keeps each API call cheap.
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    session: Session, user: User, name: str = "API token", *, actor: User | None = None
) -> tuple[str, ApiToken]:
    """A new token for ``user``: returns the token itself (shown once) and its stored record.
    ``actor`` is who asked for it (None: the system, e.g. the command line)."""
    errors: dict[str, str] = {}
    name = validation.text(errors, "name", name, "token name", max_length=100, required=False)
    if errors:
        raise ValidationError(errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        name=name or "API token",
        token_hash=_hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 4],
    )
    session.add(record)
    session.flush()
    # The record names the token, never the token itself.
    record_event(
        session,
        action=EventType.TOKEN_CREATED,
        actor=actor,
        details={"user": user.email, "token_id": record.id, "name": record.name},
    )
    return token, record


def live_tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The tokens of ``user`` that still work, newest first."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Stop one of ``user``'s own tokens working, at once. NotFound for a token that is
    someone else's or already revoked (the two look the same)."""
    record = session.exec(
        select(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
        )
        .with_for_update()
    ).first()
    if record is None:
        raise NotFound("no such token")
    _revoke(session, user, record, {})
    return record


def revoke_every_token(session: Session, user: User, *, because: EventType) -> int:
    """Stop every token of ``user`` working, at once, when the account is taken back:
    ``because`` is the event that did it (a new password, the other sessions ended), and
    each token's audit event names it. Returns how many were live."""
    records = session.exec(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
        .with_for_update()
    ).all()
    for record in records:
        _revoke(session, user, record, {"because": str(because)})
    return len(records)


def _revoke(session: Session, user: User, record: ApiToken, details: dict) -> None:
    record.revoked_at = utcnow()
    session.add(record)
    session.flush()
    record_event(
        session,
        action=EventType.TOKEN_REVOKED,
        actor=user,
        details={"user": user.email, "token_id": record.id, "name": record.name, **details},
    )


def live_token(session: Session, token: str) -> tuple[ApiToken, User] | None:
    """The live token and the active user it belongs to, or None. Reads only: an API
    call that reads takes no write lock (``stamp_token_use`` notes the use apart)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.exec(
        select(ApiToken, User)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row[1].is_active:
        return None
    return row[0], row[1]


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    found = live_token(session, token)
    return found[1] if found else None


# The tokens page shows when a token was last used to the minute; stamping it more often
# would make every API read a write.
TOKEN_USE_STAMPED_EVERY = timedelta(minutes=1)


def token_use_is_stale(record: ApiToken) -> bool:
    last = record.last_used_at
    return last is None or utcnow() - last >= TOKEN_USE_STAMPED_EVERY


def stamp_token_use(session: Session, token_id: int) -> None:
    """Note that the token was used now (in the caller's own short transaction)."""
    session.exec(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def hash_token(token: str) -> str:
    """The SHA-256 kept of a random token (API tokens, invitation links)."""
    return _hash_token(token)


def search_users(
    session: Session, query: str = "", limit: int = 200, after: User | None = None
) -> list[User]:
    """People whose name or e-mail address contains ``query`` (any case), by name;
    ``after`` a person of a previous page, those that come after them."""
    statement = select(User).order_by(User.name, User.id).limit(limit)
    if after is not None:
        statement = statement.where(
            sa.or_(User.name > after.name, sa.and_(User.name == after.name, User.id > after.id))
        )
    words = query.strip().lower()
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            sa.or_(
                sa.func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    return list(session.exec(statement))
