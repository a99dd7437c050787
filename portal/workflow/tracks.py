"""Each Nation's track follows the request's current revision (invariant 11)."""

from portal.audit.events import EventType
from portal.registry.models import Nation
from portal.reviews.models import NationTrack, TrackStatus
from portal.reviews.service import tracks_of
from portal.workflow.context import Context


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
