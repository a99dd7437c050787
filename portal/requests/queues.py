"""Each person's queue: the requests that wait for them, by role."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from portal.auth.models import Role, RoleMembership, User
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import NationTrack, Review, TrackStatus


@dataclass
class Queue:
    key: str
    title: str
    requests: list[AccessRequest]


def queues_for(session: Session, user: User) -> list[Queue]:
    memberships = session.exec(
        select(RoleMembership).where(RoleMembership.user_id == user.id)
    ).all()
    roles = {m.role for m in memberships}
    queues = []
    if Role.RESEARCHER in roles:
        queues.append(
            Queue(
                "yours",
                "Your drafts and requests returned to you",
                list(
                    session.exec(
                        select(AccessRequest)
                        .where(
                            AccessRequest.researcher_id == user.id,
                            AccessRequest.status.in_(
                                [RequestStatus.DRAFT, RequestStatus.CHANGES_REQUESTED]
                            ),
                        )
                        .order_by(AccessRequest.updated_at.desc())
                    )
                ),
            )
        )
    if Role.COORDINATOR in roles:
        queues.append(
            Queue(
                "screen",
                "To screen",
                list(
                    session.exec(
                        select(AccessRequest)
                        .where(AccessRequest.status == RequestStatus.SCREENING)
                        .order_by(AccessRequest.updated_at)
                    )
                ),
            )
        )
    steward_of = [m.nation_id for m in memberships if m.role == Role.STEWARD]
    if steward_of:
        already = (
            select(Review.id)
            .where(
                Review.request_id == AccessRequest.id,
                Review.nation_id == NationTrack.nation_id,
                Review.revision == AccessRequest.current_revision,
                Review.steward_id == user.id,
            )
            .exists()
        )
        queues.append(
            Queue(
                "review",
                "To review",
                _by_track(
                    session,
                    steward_of,
                    [status for status in TrackStatus if status.is_open],
                    sa.not_(already),
                ),
            )
        )
    representative_of = [m.nation_id for m in memberships if m.role == Role.REPRESENTATIVE]
    if representative_of:
        queues.append(
            Queue(
                "decide", "To decide", _by_track(session, representative_of, [TrackStatus.DECISION])
            )
        )
    return queues


def _by_track(session, nation_ids, track_statuses, *conditions) -> list[AccessRequest]:
    """Requests under review with a track of one of these Nations in these states."""
    tracks = select(NationTrack.request_id).where(
        NationTrack.request_id == AccessRequest.id,
        NationTrack.nation_id.in_(nation_ids),
        NationTrack.status.in_(track_statuses),
        *conditions,
    )
    return list(
        session.exec(
            select(AccessRequest)
            .where(AccessRequest.status == RequestStatus.UNDER_REVIEW, tracks.exists())
            .order_by(AccessRequest.updated_at)
        )
    )
