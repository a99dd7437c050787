"""A request's agreement editions: which one is in force, which one waits for signatures.

Edition 1 is issued when every Nation first approves; a renewal or amendment that every
Nation concerned approves issues the next. An edition takes effect when its last party
signs (``effective_at``); the one before is then superseded, never edited. So:

- ``current``: the edition people read, download and verify: the latest that took
  effect, else the first (before access began, the one being signed).
- ``pending``: a later edition still awaiting its signatures (an amendment's).
- ``to_sign``: what the parties sign now: the pending edition, else the current one.
"""

from sqlmodel import Session, select

from portal.agreements.models import Agreement, AgreementSignature, AgreementStatus
from portal.db import TransactionCache
from portal.registry.models import Nation
from portal.requests.models import AccessRequest

# Per transaction: a request page asks for the agreement once per step it offers.
_cache = TransactionCache("portal.agreements.editions", (Agreement, AgreementSignature))


def editions_of(session: Session, request: AccessRequest) -> list[Agreement]:
    """Every edition of the request's agreement, the first first."""
    key = ("editions", request.id)
    if (found := _cache(session).get(key)) is None:
        query = select(Agreement).where(Agreement.request_id == request.id)
        found = list(session.exec(query.order_by(Agreement.edition)))
        _cache(session)[key] = found  # after the query: its autoflush may empty the cache
    return list(found)


def preload(session: Session, request_ids: list[int]) -> None:
    """Read the editions of these requests in one query, kept for this transaction (a
    home page's queues ask for many requests' agreements)."""
    ids = [i for i in request_ids if ("editions", i) not in _cache(session)]
    if not ids:
        return
    found: dict = {("editions", i): [] for i in ids}
    query = select(Agreement).where(Agreement.request_id.in_(ids))
    for agreement in session.exec(query.order_by(Agreement.request_id, Agreement.edition)):
        found["editions", agreement.request_id].append(agreement)
    _cache(session).update(found)  # after the query: its autoflush may empty the cache


def current(session: Session, request: AccessRequest) -> Agreement | None:
    editions = editions_of(session, request)
    effective = [e for e in editions if e.effective_at is not None]
    if effective:
        return effective[-1]
    return editions[0] if editions else None


def pending(session: Session, request: AccessRequest) -> Agreement | None:
    """An edition after the current one still awaiting signatures (an amendment's)."""
    now = current(session, request)
    later = [
        e
        for e in editions_of(session, request)
        if now is not None and e.edition > now.edition
        and e.status == AgreementStatus.AWAITING_SIGNATURES
    ]  # fmt: skip
    return later[-1] if later else None


def to_sign(session: Session, request: AccessRequest) -> Agreement | None:
    return pending(session, request) or current(session, request)


def signing_nations(session: Session, agreement: Agreement) -> list[Nation]:
    """The Nations that signed ``agreement``, by name: the parties of an edition that
    took effect (a Nation whose data a later revision dropped stays one of its)."""
    preload_signing_nations(session, [agreement])
    return list(_cache(session)["signing_nations", agreement.id])


def preload_signing_nations(session: Session, agreements: list[Agreement]) -> None:
    """The signing Nations of ``agreements`` in one query, kept for this transaction (the
    home pages' overdue attestations ask for every ended request's)."""
    ids = [a.id for a in agreements if ("signing_nations", a.id) not in _cache(session)]
    if not ids:
        return
    found: dict = {("signing_nations", i): [] for i in ids}
    for agreement_id, nation in session.exec(
        select(AgreementSignature.agreement_id, Nation)
        .join(Nation, AgreementSignature.nation_id == Nation.id)
        .where(AgreementSignature.agreement_id.in_(ids))
        .order_by(Nation.name, Nation.id)
    ):
        found["signing_nations", agreement_id].append(nation)
    _cache(session).update(found)  # after the query: its autoflush may empty the cache
