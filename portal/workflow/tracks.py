"""Each Nation's track follows the request's current revision (invariant 11)."""

from portal.audit.events import EventType
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import NationTrack, TrackStatus
from portal.reviews.service import tracks_of
from portal.workflow.context import Context

# The phases in which a submitted revision is on its way to the Nations' decisions. (A
# renewal's or amendment's draft is not: until it is submitted, each Nation's part is the
# one in force.)
SUBMITTED = frozenset(
    {
        RequestStatus.SCREENING,
        RequestStatus.CHANGES_REQUESTED,
        RequestStatus.UNDER_REVIEW,
        RequestStatus.AWAITING_SIGNATURES,
    }
)


def of_earlier_revision(request: AccessRequest, track: NationTrack) -> bool:
    """Whether ``track``'s status is about an earlier revision than the one submitted now.
    No Nation is asked about a revision until a coordinator accepts it for review
    (open_review), so while it is screened or returned, a Nation's approval, reviews or
    decision are of an earlier revision and count for none since (invariants 2 and 11).
    Once access began, each part is the one in force, even when an amendment that ended
    without effect left the current revision ahead of it."""
    return request.phase in SUBMITTED and track.revision < request.current_revision


def end_dropped(ctx: Context, nations: list[Nation]) -> list[Nation]:
    """End the track of every Nation whose data the new revision no longer touches: its
    approval or review stops counting, it is no party to the agreement, and it is told."""
    wanted = {nation.id for nation in nations}
    dropped = []
    for track, nation in tracks_of(ctx.session, ctx.request):
        if nation.id in wanted or track.status == TrackStatus.ENDED:
            continue
        previous = track.status
        ctx.move_track(track, TrackStatus.ENDED)
        ctx.session.flush()
        ctx.event(
            EventType.TRACK_ENDED,
            [nation],
            nation=nation.slug,
            previous=previous.value,
            revision=ctx.request.current_revision,
        )
        ctx.tell("track_ended", nation=nation)
        dropped.append(nation)
    return dropped


def open_review(ctx: Context, nations: list[Nation]) -> None:
    """Every Nation whose data the revision touches reviews it afresh (a Nation whose
    data returns after it was dropped joins again)."""
    existing = {track.nation_id: track for track, _ in tracks_of(ctx.session, ctx.request)}
    for nation in nations:
        track = existing.get(nation.id) or NationTrack(
            request_id=ctx.request.id, nation_id=nation.id
        )
        ctx.move_track(track, TrackStatus.REVIEW)


def current_tracks(ctx: Context) -> list[tuple[NationTrack, Nation]]:
    """The tracks of the Nations still taking part."""
    return [(t, n) for t, n in tracks_of(ctx.session, ctx.request) if t.status != TrackStatus.ENDED]
