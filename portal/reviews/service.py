"""Reviews and tracks: counting what a Nation's stewards said about the current
revision. Shared by the workflow and the governance conditions, so a review counts
the same way everywhere."""

from dataclasses import dataclass

from sqlmodel import Session, select

from portal.auth.models import Role, RoleMembership, User
from portal.db import TransactionCache
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.models import Decision, NationTrack, Outcome, Recommendation, Review


@dataclass(frozen=True)
class ReviewTally:
    """What counts toward a Nation's quorum on the current revision."""

    counted: int  # reviews by designated stewards without a conflict of interest
    approvals: int  # of those, how many recommend approval
    conflicts: int  # stewards who declared a conflict of interest
    quorum: int
    min_approvals: int
    # Counted reviews still possible: those recorded plus every eligible steward who has
    # not reviewed this revision yet. Below the quorum, the Nation cannot approve until
    # its representative designates another steward.
    reachable: int = 0

    @property
    def quorum_met(self) -> bool:
        return self.counted >= self.quorum

    @property
    def reviews_missing(self) -> int:
        return max(self.quorum - self.counted, 0)

    @property
    def stalled(self) -> bool:
        return self.reachable < self.quorum


# Per transaction: a page that offers steps on many requests (the home page's queues, a
# request page's buttons) asks the same tracks, reviews and stewards again and again.
_cache = TransactionCache(
    "portal.reviews", (NationTrack, Review, RoleMembership, User, AccessRequest)
)


def holder_ids(session: Session, nation: Nation, role: Role) -> set[int]:
    """Who holds ``role`` in ``nation`` (read once per transaction)."""
    key = ("holders", nation.id, role)
    if (found := _cache(session).get(key)) is None:
        found = _cache(session)[key] = set(
            session.exec(
                select(RoleMembership.user_id).where(
                    RoleMembership.nation_id == nation.id, RoleMembership.role == role
                )
            )
        )
    return set(found)


def preload_holders(session: Session, nations: list[Nation]) -> None:
    """Read the stewards and representatives of ``nations``, and their e-mail addresses,
    in two queries kept for this transaction (a page tallying many requests' reviews)."""
    roles = (Role.STEWARD, Role.REPRESENTATIVE)
    wanted = {n.id for n in nations} - {k[1] for k in _cache(session) if k[0] == "holders"}
    if not wanted:
        return
    found: dict = {("holders", nation_id, role): set() for nation_id in wanted for role in roles}
    rows = session.exec(
        select(RoleMembership.nation_id, RoleMembership.role, RoleMembership.user_id).where(
            RoleMembership.nation_id.in_(sorted(wanted)), RoleMembership.role.in_(roles)
        )
    )
    for nation_id, role, user_id in rows:
        found["holders", nation_id, role].add(user_id)
    people = set().union(*found.values())
    emails = list(session.exec(select(User.id, User.email).where(User.id.in_(people))))
    _cache(session).update(found)  # after the queries: their autoflush may empty the cache
    _cache(session)["email of", None] = {
        **_cache(session).get(("email of", None), {}),
        **dict(emails),
    }


def _emails(session: Session, user_ids: set[int]) -> list[tuple[int, str]]:
    key = ("emails", frozenset(user_ids))
    known = _cache(session).get(("email of", None), {})
    if (found := _cache(session).get(key)) is None and user_ids <= known.keys():
        found = _cache(session)[key] = [(user_id, known[user_id]) for user_id in user_ids]
    if found is None:
        found = _cache(session)[key] = list(
            session.exec(select(User.id, User.email).where(User.id.in_(user_ids)))
        )
    return found


def counting_steward_ids(session: Session, request: AccessRequest, nation: Nation) -> set[int]:
    """Whose reviews of ``request`` may count for ``nation``: its designated stewards,
    less its representatives (a decider's own review never makes its own quorum) and
    less anyone on the requesting side (invariant 10: designating them has no effect)."""
    stewards = holder_ids(session, nation, Role.STEWARD)
    stewards -= holder_ids(session, nation, Role.REPRESENTATIVE)
    if not stewards:
        return stewards
    people = _emails(session, stewards)
    return {user_id for user_id, email in people if not request.involves(user_id, email)}


def current_reviews(session: Session, request: AccessRequest, nation: Nation) -> list[Review]:
    """The reviews of the current revision for this Nation, oldest first."""
    key = ("reviews", request.id, request.current_revision)
    if (found := _cache(session).get(key)) is None:
        found = preload(session, [request])[key]
    return [review for review in found if review.nation_id == nation.id]


def _by_designated_stewards(
    session: Session, request: AccessRequest, nation: Nation
) -> list[Review]:
    stewards = counting_steward_ids(session, request, nation)
    return [r for r in current_reviews(session, request, nation) if r.steward_id in stewards]


def _counts(review: Review) -> bool:
    """A recommendation counts; a declared conflict of interest does not."""
    return not review.conflict_of_interest and review.recommendation is not None


def counted_reviews(session: Session, request: AccessRequest, nation: Nation) -> list[Review]:
    """The reviews that count toward the Nation's quorum: of the current revision, by
    people whose reviews may count (counting_steward_ids), who did not declare a
    conflict of interest."""
    return [r for r in _by_designated_stewards(session, request, nation) if _counts(r)]


def tally(session: Session, request: AccessRequest, nation: Nation) -> ReviewTally:
    eligible = counting_steward_ids(session, request, nation)
    return tally_of(current_reviews(session, request, nation), eligible, nation)


def tally_of(reviews, eligible: set[int], nation: Nation) -> ReviewTally:
    """The Nation's quorum rule over any reviews with a ``steward_id``, a
    ``recommendation`` and a ``conflict_of_interest``: a request's revision, or an
    output before publication (portal/lifecycle/outputs/), counted the same way."""
    reviews = [r for r in reviews if r.steward_id in eligible]
    counted = [r for r in reviews if _counts(r)]
    return ReviewTally(
        reachable=len(counted) + len(eligible - {r.steward_id for r in reviews}),
        counted=len(counted),
        approvals=sum(r.recommendation == Recommendation.APPROVE for r in counted),
        conflicts=sum(r.conflict_of_interest for r in reviews),
        quorum=nation.review_quorum,
        min_approvals=nation.min_approvals,
    )


def tracks_of(session: Session, request: AccessRequest) -> list[tuple[NationTrack, Nation]]:
    """The request's tracks and their Nations, by the Nation's name."""
    if (found := _cache(session).get(("tracks", request.id))) is None:
        found = preload(session, [request])[("tracks", request.id)]
    return list(found)


def track_for(session: Session, request: AccessRequest, nation: Nation) -> NationTrack | None:
    tracks = tracks_of(session, request)
    return next((track for track, _ in tracks if track.nation_id == nation.id), None)


def preload(session: Session, requests: list[AccessRequest]) -> dict:
    """Read the tracks and the current revision's reviews of ``requests`` in two queries,
    kept for this transaction: a page listing many requests then asks nothing more of
    them. Returns what it read (the cache forgets it at once if changes are pending)."""
    known = _cache(session)
    ids = [request.id for request in requests if ("tracks", request.id) not in known]
    if not ids:
        return known
    found: dict = {("tracks", request_id): [] for request_id in ids}
    for track, nation in session.exec(
        select(NationTrack, Nation)
        .join(Nation, NationTrack.nation_id == Nation.id)
        .where(NationTrack.request_id.in_(ids))
        .order_by(Nation.name, NationTrack.id)
    ):
        found["tracks", track.request_id].append((track, nation))
    revisions = {request.id: request.current_revision for request in requests if request.id in ids}
    found.update({("reviews", i, revision): [] for i, revision in revisions.items()})
    for review in session.exec(
        select(Review).where(Review.request_id.in_(ids)).order_by(Review.id)
    ):
        if review.revision == revisions[review.request_id]:
            found["reviews", review.request_id, review.revision].append(review)
    _cache(session).update(found)  # after the queries: their autoflush may empty the cache
    return found


def has_reviewed(session: Session, request: AccessRequest, nation: Nation, user: User) -> bool:
    return any(r.steward_id == user.id for r in current_reviews(session, request, nation))


def standing_approval(
    session: Session, request: AccessRequest, nation: Nation, revision: int | None = None
) -> Decision | None:
    """The Nation's latest approval of the request: the one whose conditions bind (the
    agreement prints them, obligations and output reviews follow from them). With
    ``revision``: its latest approval of that revision or an earlier one (the edition of
    the agreement issued on it, while a later revision is reviewed or was refused)."""
    query = select(Decision).where(
        Decision.request_id == request.id,
        Decision.nation_id == nation.id,
        Decision.outcome == Outcome.APPROVE,
    )
    if revision is not None:
        query = query.where(Decision.revision <= revision)
    return session.exec(query.order_by(Decision.id.desc())).first()
