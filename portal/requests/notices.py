"""Who hears about each step: whoever must act next, and the researcher on every outcome.
Messages go to the outbox in the transition's own transaction (see portal.notify)."""

from sqlmodel import Session, select

from portal.auth.models import Role, RoleMembership, User
from portal.notify.service import queue
from portal.registry.models import Nation
from portal.requests.models import AccessRequest


def _holders(session: Session, role: Role, nation: Nation | None = None) -> list[User]:
    query = (
        select(User)
        .join(RoleMembership, RoleMembership.user_id == User.id)
        .where(RoleMembership.role == role, User.active)
    )
    if nation is not None:
        query = query.where(RoleMembership.nation_id == nation.id)
    return list(session.exec(query.order_by(User.id)))


def _researcher(session: Session, request: AccessRequest) -> list[User]:
    return [session.get(User, request.researcher_id)]


def submitted(session: Session, request: AccessRequest) -> None:
    queue(session, _holders(session, Role.COORDINATOR), "to_screen", request)
    queue(session, _researcher(session, request), "submitted", request)


def returned(session: Session, request: AccessRequest, reason: str, comment: str) -> None:
    queue(
        session, _researcher(session, request), "returned", request, reason=reason, comment=comment
    )


def accepted(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    for nation in nations:
        queue(session, _holders(session, Role.STEWARD, nation), "to_review", request, nation=nation)
    queue(session, _researcher(session, request), "accepted", request, nations=nations)


def changes_requested(session: Session, request: AccessRequest, nation: Nation, comment: str):
    queue(
        session,
        _researcher(session, request),
        "changes_requested",
        request,
        nation=nation,
        comment=comment,
    )


def ready_for_decision(session: Session, request: AccessRequest, nation: Nation) -> None:
    reps = _holders(session, Role.REPRESENTATIVE, nation)
    queue(session, reps, "to_decide", request, nation=nation)


def approved(session: Session, request: AccessRequest, nation: Nation) -> None:
    queue(session, _researcher(session, request), "approved", request, nation=nation)


def all_approved(session: Session, request: AccessRequest) -> None:
    queue(session, _researcher(session, request), "all_approved", request)


def refused(session: Session, request: AccessRequest, nation: Nation, reason: str) -> None:
    recipients = _researcher(session, request) + _holders(session, Role.COORDINATOR)
    queue(session, recipients, "refused", request, nation=nation, reason=reason)


def withdrawn(session: Session, request: AccessRequest, reason: str) -> None:
    queue(session, _holders(session, Role.COORDINATOR), "withdrawn", request, reason=reason)


def revoked(session: Session, request: AccessRequest, nation: Nation, reason: str) -> None:
    recipients = _researcher(session, request) + _holders(session, Role.COORDINATOR)
    queue(session, recipients, "revoked", request, nation=nation, reason=reason)


def to_sign(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    for nation in nations:
        reps = _holders(session, Role.REPRESENTATIVE, nation)
        queue(session, reps, "to_sign", request, nation=nation)


def active(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    recipients = _researcher(session, request) + _holders(session, Role.COORDINATOR)
    for nation in nations:
        recipients += _holders(session, Role.REPRESENTATIVE, nation)
    queue(session, recipients, "active", request)


def expired(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    recipients = _researcher(session, request) + _holders(session, Role.COORDINATOR)
    for nation in nations:
        recipients += _holders(session, Role.REPRESENTATIVE, nation)
    queue(session, recipients, "expired", request)
