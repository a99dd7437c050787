"""Policy in the database, the version row, and each worker's enforcer.

Every change to policy rows or role memberships bumps ``policy_version`` in the
same transaction. Each worker (one engine, one PolicyStore) compares that row
with the version its enforcer was built from when a transaction first asks, and
rebuilds when it moved: before every web request (portal/policy/web.py), and
for the CLI and jobs on the first authorize() of a transaction. So a grant or a
policy load takes effect for the next request in every worker process.

A transaction that itself changed policy or roles gets a private enforcer built
from what it sees, so the shared one is never built from uncommitted changes.
"""

import threading
import weakref

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from portal import longlived
from portal.auth.models import RoleMembership
from portal.db import engine_of, utcnow
from portal.paths import resource_dir
from portal.policy.enforcer import Line, LoadedPolicy
from portal.policy.models import RULE_FIELDS, PolicyRule, PolicyVersion, rules_version_in_force
from portal.policy.vocabulary import WILDCARD, subject
from portal.registry.models import Nation

MODEL_FILE = "model.conf"
# Keys in Session.info, cleared when the session's transaction ends.
_CHECKED = "portal.policy.checked"
_CHANGED = "portal.policy.changed"
_PRIVATE = "portal.policy.private"


def model_path():
    return resource_dir("policies") / MODEL_FILE


# Asked before every request: a Core statement, built once, costs a quarter of the ORM query.
_VERSION = sa.select(PolicyVersion.__table__.c.version).where(PolicyVersion.__table__.c.id == 1)


def read_version(session: Session) -> int:
    return session.connection().execute(_VERSION).scalar() or 0


_VERSIONS = PolicyVersion.__table__


def bump_version(session: Session) -> None:
    """Record that policy or roles changed (in the caller's transaction). Core
    statements on the session's connection, so it also runs inside a flush."""
    connection = session.connection()
    result = connection.execute(
        sa.update(_VERSIONS)
        .where(_VERSIONS.c.id == 1)
        .values(version=_VERSIONS.c.version + 1, changed_at=utcnow())
    )
    if result.rowcount == 0:  # the row is missing (a database emptied by hand or by tests)
        connection.execute(sa.insert(_VERSIONS).values(id=1, version=1, changed_at=utcnow()))
    session.info[_CHANGED] = True
    session.info.pop(_PRIVATE, None)


@event.listens_for(OrmSession, "before_flush")
def _roles_changed(session: OrmSession, _context, _instances) -> None:
    """A role granted or taken away changes who may do what: bump the version in the
    same transaction, whichever service changed it (auth sits below the policy)."""
    changed = (*session.new, *session.deleted, *session.dirty)
    if any(isinstance(item, RoleMembership) for item in changed):
        bump_version(session)


def read_lines(session: Session) -> list[Line]:
    """The policy rows, then one g line per role membership."""
    lines: list[Line] = [
        (rule.ptype, rule.values)
        for rule in session.exec(select(PolicyRule).order_by(PolicyRule.id))
    ]
    memberships = session.exec(
        select(RoleMembership.user_id, RoleMembership.role, Nation.slug).join(
            Nation, RoleMembership.nation_id == Nation.id, isouter=True
        )
    )
    lines.extend(
        ("g", (subject(user_id), role.value, slug or WILDCARD))
        for user_id, role, slug in memberships
    )
    return lines


def build(session: Session) -> LoadedPolicy:
    # The version first: were the rows read first, a change committed in between
    # would be labelled with the newer version and never picked up.
    version = read_version(session)
    rules_version = rules_version_in_force(session)  # changes with the version: read with it
    return LoadedPolicy.build(model_path(), read_lines(session), version, rules_version)


# A policy of at least this many lines (roles held, mostly) is left out of the cyclic
# collector once built (portal/longlived.py).
FREEZE_ABOVE = 5_000


class PolicyStore:
    """One worker's enforcer for one database."""

    def __init__(self) -> None:
        self._loaded: LoadedPolicy | None = None
        self._lock = threading.Lock()
        self.builds = 0  # how many times it was (re)built; the tests watch it

    @property
    def loaded_version(self) -> int | None:
        return None if self._loaded is None else self._loaded.version

    def current(self, session: Session) -> LoadedPolicy:
        if session.info.get(_CHANGED):
            if _PRIVATE not in session.info:
                session.info[_PRIVATE] = build(session)
            return session.info[_PRIVATE]
        if self._loaded is None or not session.info.get(_CHECKED):
            self._refresh(session)
            session.info[_CHECKED] = True
        return self._loaded

    def _refresh(self, session: Session) -> None:
        version = read_version(session)
        if self._loaded is not None and self._loaded.version == version:
            return
        with self._lock:
            if self._loaded is None or self._loaded.version != version:
                self._loaded = build(session)
                self.builds += 1
                if self._loaded.lines >= FREEZE_ABOVE:
                    longlived.freeze()  # the role graph: 100,000 objects at 10,000 people


_stores: "weakref.WeakKeyDictionary[Engine, PolicyStore]" = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def store_for(session: Session) -> PolicyStore:
    engine = engine_of(session)  # one store for the app's reading and writing sessions
    with _stores_lock:
        if engine not in _stores:
            _stores[engine] = PolicyStore()
        return _stores[engine]


def current_policy(session: Session) -> LoadedPolicy:
    return store_for(session).current(session)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_checks(session: OrmSession, transaction) -> None:
    if transaction.parent is None:
        for key in (_CHECKED, _CHANGED, _PRIVATE):
            session.info.pop(key, None)


def replace_file_rules(session: Session, lines: list[tuple[str, str, list[str]]]) -> bool:
    """Replace every file-sourced row with ``lines`` (source, ptype, values) and bump
    the version; returns False, changing nothing, when the rows say that already."""
    existing = session.exec(
        select(PolicyRule).where(PolicyRule.source != "").order_by(PolicyRule.id)
    )
    if [(rule.source, rule.ptype, rule.values) for rule in existing] == [
        (source, ptype, list(values)) for source, ptype, values in lines
    ]:
        return False
    session.exec(sa.delete(PolicyRule).where(PolicyRule.source != ""))
    for source, ptype, values in lines:
        padded = list(values) + [""] * (len(RULE_FIELDS) - len(values))
        session.add(
            PolicyRule(ptype=ptype, source=source, **dict(zip(RULE_FIELDS, padded, strict=True)))
        )
    session.flush()
    bump_version(session)
    return True
