"""The end of access: when it ended, the researcher's signed destruction attestations
and each Nation's answer. Flush, never commit; no Flask. The workflow (workflow/ending.py)
checks who may and when, then calls these.

An attestation is due from the moment access ends (``AccessEnding``), by the end plus
each Nation's ``attestation_due_days``. The Nations concerned are the agreement's
(``approving_nations``: a revoking Nation stays one). A Nation's acknowledgement stands;
a Nation that asked for more answers the researcher's next attestation.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from portal import i18n
from portal.agreements import editions, render, signing
from portal.agreements import service as agreements
from portal.agreements.models import SignerCredential
from portal.agreements.parties import RESEARCHER, Party, approving_nations
from portal.auth.models import User
from portal.db import TransactionCache
from portal.errors import ServiceError
from portal.lifecycle.attestation_models import (
    AccessEnding,
    DestructionAcknowledgement,
    DestructionAttestation,
)
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews import service as reviews
from portal.storage import service as storage

PDF = "application/pdf"
CHUNK = 500  # ended requests read at a time (overdue_attestations)
TEMPLATE = "lifecycle/attestation.html"  # it says why access ended (END_REASONS) in words


# Per transaction: the home page's queues ask every candidate whether its access ended
# (the attest and answer steps' guards); preload_endings reads them all at once.
_endings = TransactionCache("portal.lifecycle.endings", (AccessEnding,))


def ending_of(session: Session, request: AccessRequest) -> AccessEnding | None:
    cached = _endings(session)
    if request.id not in cached:
        query = select(AccessEnding).where(AccessEnding.request_id == request.id)
        cached[request.id] = session.exec(query).first()
    return cached[request.id]


def preload_endings(session: Session, request_ids: list[int]) -> None:
    """Whether access ended, for each of ``request_ids``, in one query (ending_of)."""
    query = select(AccessEnding).where(AccessEnding.request_id.in_(request_ids))
    found = {ending.request_id: ending for ending in session.exec(query)}
    _endings(session).update({request_id: found.get(request_id) for request_id in request_ids})


def record_ending(session: Session, request: AccessRequest, reason: str) -> AccessEnding:
    """Access ended now (the first end counts: a later revocation or expiry of a request
    closed early keeps the date the attestation was first due from)."""
    found = ending_of(session, request)
    if found is None:
        found = AccessEnding(request_id=request.id, reason=reason)
        session.add(found)
        session.flush()
    return found


def attestations_of(session: Session, request: AccessRequest) -> list[DestructionAttestation]:
    query = select(DestructionAttestation).where(DestructionAttestation.request_id == request.id)
    return list(session.exec(query.order_by(DestructionAttestation.number)))


def latest(session: Session, request: AccessRequest) -> DestructionAttestation | None:
    return _newest_of(session, [request.id]).get(request.id)


def last_answers(session: Session, request: AccessRequest) -> dict[int, DestructionAcknowledgement]:
    """Each Nation's latest answer, by Nation id."""
    return _last_answers_of(session, [request.id]).get(request.id, {})


def _newest_of(session: Session, request_ids: list[int]) -> dict[int, DestructionAttestation]:
    """The newest attestation of each of these requests (that has one), by request."""
    newest: dict[int, DestructionAttestation] = {}
    made = select(DestructionAttestation).where(DestructionAttestation.request_id.in_(request_ids))
    for attestation in session.exec(made.order_by(DestructionAttestation.number)):
        newest[attestation.request_id] = attestation  # the last (highest number) wins
    return newest


def _last_answers_of(
    session: Session, request_ids: list[int]
) -> dict[int, dict[int, DestructionAcknowledgement]]:
    """Each Nation's latest answer on each of these requests, by request and Nation."""
    answers: dict[int, dict[int, DestructionAcknowledgement]] = {}
    for request_id, answer in session.exec(
        select(DestructionAttestation.request_id, DestructionAcknowledgement)
        .join(DestructionAttestation)
        .where(DestructionAttestation.request_id.in_(request_ids))
        .order_by(DestructionAcknowledgement.id)
    ):
        answers.setdefault(request_id, {})[answer.nation_id] = answer  # the last wins
    return answers


def acknowledged_by_all(session: Session, request: AccessRequest) -> bool:
    answers = last_answers(session, request)
    return all(
        n.id in answers and answers[n.id].outcome == "acknowledged"
        for n in approving_nations(session, request)
    )


def attestation_awaited(session: Session, request: AccessRequest) -> bool:
    """Whether the researcher owes an attestation now: access ended, and none was made
    yet or a Nation asked for more since the latest."""
    if request.status is RequestStatus.CLOSED or ending_of(session, request) is None:
        return False
    return _owed(latest(session, request), last_answers(session, request))


def _owed(
    newest: DestructionAttestation | None, answers: dict[int, DestructionAcknowledgement]
) -> bool:
    """Of a request whose access ended: none made yet, or a Nation asked for more since
    the latest (``answers``: each Nation's latest answer)."""
    if newest is None:
        return True
    return any(
        a.outcome == "more_needed" and a.attestation_id == newest.id for a in answers.values()
    )


def awaiting_answer(
    session: Session, request: AccessRequest, nation: Nation
) -> DestructionAttestation | None:
    """The attestation ``nation`` has to answer: the latest, unless it acknowledged one
    already or answered this one."""
    if ending_of(session, request) is None:  # access goes on: nothing attested (cached)
        return None
    newest = latest(session, request)
    if newest is None or request.status is RequestStatus.CLOSED:
        return None
    if nation.id not in {n.id for n in approving_nations(session, request)}:
        return None
    mine = last_answers(session, request).get(nation.id)
    if mine is not None and (mine.outcome == "acknowledged" or mine.attestation_id == newest.id):
        return None
    return newest


def ended_on(ending: AccessEnding) -> date:
    """The day access ended, as every page, PDF and rule reads it (UTC, as stored)."""
    return ending.ended_at.date()


def ended_day(session: Session, request: AccessRequest) -> date | None:
    """The day access to ``request`` ended, or None while it lasts."""
    ending = ending_of(session, request)
    return ended_on(ending) if ending is not None else None


def due_on(ending: AccessEnding, nation: Nation) -> date:
    return ended_on(ending) + timedelta(days=nation.attestation_due_days)


@dataclass(frozen=True)
class PreparedAttestation:
    """An attestation printed and signed before the write transaction (``prepare``), and
    what it says of the request and its researcher: it may be kept only while that is
    still so (``still_says``)."""

    signer_id: int
    says: dict[str, Any] = field(repr=False)
    pdf: bytes = field(repr=False)
    credential: SignerCredential = field(repr=False)  # perhaps issued for it, not stored

    @property
    def number(self) -> int:
        return self.says["number"]


def what_it_says(session: Session, user: User, request: AccessRequest) -> dict[str, Any]:
    """What an attestation made now says besides the researcher's own words: its number,
    the request, when and why access ended, the Nations, who signs."""
    ending = ending_of(session, request)
    return {
        "ref": request.ref,
        "title": request.title,
        "number": len(attestations_of(session, request)) + 1,
        "made_on": date.today(),
        "ended_on": ended_on(ending),
        "end_reason": ending.reason,
        "nations": [n.name for n in approving_nations(session, request)],
        "researcher": {"name": user.name, "institution": user.institution, "email": user.email},
        "language": _language(session, user, request),
    }


def _language(session: Session, user: User, request: AccessRequest) -> str:
    """The attestation is written in the language of the agreement in force, so the
    Nations read it as they signed; for one signed in both, in the researcher's own
    (it is their statement), else English."""
    in_force = agreements.current(session, request)
    language = in_force.language if in_force is not None else i18n.DEFAULT_LANGUAGE
    if language in render.LANGUAGES:
        return language
    return user.language if user.language in render.LANGUAGES else i18n.DEFAULT_LANGUAGE


def prepare(
    session: Session, user: User, request: AccessRequest, fields: dict[str, Any]
) -> PreparedAttestation:
    """Print the attestation and sign it with the researcher's credential (as an agreement
    signature), writing nothing: the slow part, which the workflow runs before its write
    transaction (workflow.perform_ahead)."""
    says = what_it_says(session, user, request)
    pdf = render.render_template_pdf(TEMPLATE, {**fields, **says}, says["language"])
    credential, row = agreements.credential_for(session, user, Party(RESEARCHER, None))
    signed = signing.sign(
        pdf,
        "Researcher",
        credential,
        reason=f"Destruction attestation {request.ref} ({says['number']})",
        name=user.name,
    )
    return PreparedAttestation(signer_id=user.id, says=says, pdf=signed, credential=row)


def still_says(
    session: Session, user: User, request: AccessRequest, prepared: PreparedAttestation
) -> bool:
    """Whether ``prepared`` is ``user``'s and says what an attestation made now would."""
    return prepared.signer_id == user.id and prepared.says == what_it_says(session, user, request)


def make(
    session: Session,
    user: User,
    request: AccessRequest,
    fields: dict[str, Any],
    prepared: PreparedAttestation | None = None,
) -> DestructionAttestation:
    """Keep the attestation ``prepared`` (printed and signed here when not given) in the
    shared storage, with the credential it was signed with. The caller checked who and
    when, and that ``prepared`` still says what is so."""
    prepared = prepared or prepare(session, user, request, fields)
    # A credential issued for it (the old one's name or CA no longer fits) is kept too:
    # the attestation names the credential that signed it.
    session.add(prepared.credential)
    session.flush()
    attestation = DestructionAttestation(
        request_id=request.id,
        number=prepared.number,
        signer_id=user.id,
        credential_id=prepared.credential.id,
        sha256=storage.put(session, prepared.pdf, PDF),
        **fields,
    )
    session.add(attestation)
    session.flush()
    return attestation


def stored_pdf(session: Session, attestation: DestructionAttestation) -> bytes:
    from flask_babel import gettext as _

    try:
        return storage.get(session, attestation.sha256)
    except ServiceError as error:
        message = _("The attestation's file cannot be used: %(why)s", why=error.message)
        raise ServiceError(message) from None


def answer(
    session: Session,
    user: User,
    attestation: DestructionAttestation,
    nation: Nation,
    outcome: str,
    comment: str,
) -> DestructionAcknowledgement:
    row = DestructionAcknowledgement(
        attestation_id=attestation.id,
        nation_id=nation.id,
        outcome=outcome,
        comment=comment,
        by_id=user.id,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Overdue:
    """An attestation a Nation still waits for past its due date."""

    ref: str
    request_id: int
    nation: Nation
    due_on: date


def overdue_attestations(
    session: Session,
    today: date,
    keep: Callable[[Overdue], bool] | None = None,
    limit: int | None = None,
) -> list[Overdue]:
    """Every (request, Nation) whose attestation is past due: access ended more than
    the Nation's days ago and the researcher owes one (none yet, or more asked for),
    those whose access ended first first. ``keep`` picks which count (a reader's
    Nations'); ``limit`` stops after so many (a home page shows a few), so the endings
    are read CHUNK at a time. For the periodic reminders and the home pages; nothing
    here sends anything."""
    # The endings first, then their requests: joined, SQLite walked every request to
    # find the few that ended. Only those ended before the shortest due days of any
    # Nation can be overdue (``due_on``): the recent ones are not read at all.
    shortest = session.exec(select(sa.func.min(Nation.attestation_due_days))).one()
    if shortest is None:
        return []
    before = datetime.combine(today - timedelta(days=shortest), time(), tzinfo=UTC)
    endings = session.exec(
        select(AccessEnding)
        .where(AccessEnding.ended_at < before)
        .order_by(AccessEnding.ended_at, AccessEnding.request_id)
    ).all()
    found: list[Overdue] = []
    for start in range(0, len(endings), CHUNK):
        found += [
            item
            for item in _overdue_among(session, endings[start : start + CHUNK], today)
            if keep is None or keep(item)
        ]
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


def _overdue_among(session: Session, endings: list[AccessEnding], today: date) -> list[Overdue]:
    """overdue_attestations of these endings, their rows read at once."""
    ended = [ending.request_id for ending in endings]
    requests = {
        request.id: request
        for request in session.exec(
            select(AccessRequest).where(
                AccessRequest.id.in_(ended), AccessRequest.status != RequestStatus.CLOSED
            )
        )
    }
    rows = [(requests[e.request_id], e) for e in endings if e.request_id in requests]
    ids = [request.id for request, _ in rows]
    newest, answers_of_each = _newest_of(session, ids), _last_answers_of(session, ids)
    owing = [
        (request, ending)
        for request, ending in rows
        if _owed(newest.get(request.id), answers_of_each.get(request.id, {}))
    ]
    # Their parties, read at once: the editions, their signatures, the signing Nations,
    # and (where no edition took effect) the tracks and reviews that say who approved.
    agreements.preload(session, [request for request, _ in owing])
    reviews.preload(session, [request for request, _ in owing])
    in_force = [editions.current(session, request) for request, _ in owing]
    editions.preload_signing_nations(session, [a for a in in_force if a is not None])
    found = []
    for request, ending in owing:
        answers = answers_of_each.get(request.id, {})
        for nation in approving_nations(session, request):
            done = nation.id in answers and answers[nation.id].outcome == "acknowledged"
            if not done and due_on(ending, nation) < today:
                found.append(Overdue(request.ref, request.id, nation, due_on(ending, nation)))
    return found
