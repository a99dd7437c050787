"""Each person's queues: the requests that wait for them, derived from available().

A queue lists the requests on which the person has its action now (and, for deciding,
the Nation's stewards have reached the quorum). It is shown to whoever the policy
grants the action at all, so an empty queue still says "nothing waits for you";
remove the policy line and the queue goes with the button and the mail.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from portal.agreements import editions
from portal.agreements import service as agreements
from portal.auth.models import User
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.lifecycle.outputs import service as outputs
from portal.policy.access import grants, holdings, visible_clause
from portal.policy.service import authorize, reads_deliberations
from portal.policy.store import current_policy
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, AmendmentPhase, RequestStatus
from portal.requests.service import preload_nations
from portal.reviews.models import TrackStatus
from portal.reviews.service import preload, preload_holders, tally, tracks_of
from portal.workflow.offers import offered
from portal.workflow.table import ALLOWED_FROM, PIPELINE
from portal.workflow.waiting import waits_since

# How many requests a queue shows (those that have waited longest); the page says when
# more wait. The page reads no more than it can show, so it costs the same for a person
# with five requests waiting as for one with five hundred.
QUEUE_SHOWN = 20
# How many candidates are read in each state (and amendment phase): some are not this
# person's step (a review already given, a Nation they do not act for) and take no place
# in the queue. Per state, so that the states that only grow (active, closed) never
# crowd a request waiting in another out of the page.
READ_PER_QUEUE = 3 * QUEUE_SHOWN


@dataclass(frozen=True)
class QueueSpec:
    key: str
    title: str
    action: str  # the workflow action (a command's name)
    policy_action: Action  # asked of the policy to show the queue at all
    statuses: frozenset[RequestStatus]
    # Asked of each candidate before its step is (read from what the page preloaded): an
    # active request whose access goes on is no candidate to attest or answer.
    only: Callable[[Session, AccessRequest], bool] | None = None


@dataclass(frozen=True)
class Waiting:
    """A request in a queue, and since when it has waited for this step."""

    request: AccessRequest
    since: datetime
    nations: list[Nation]  # the Nations the step is for (none for the researcher's)


@dataclass
class Queue:
    key: str
    title: str
    items: list[Waiting] = field(default_factory=list)
    more: bool = False  # more wait than the QUEUE_SHOWN listed
    # Fewer listed, but reading stopped in one of its states: more may wait beyond them.
    unread: bool = False

    @property
    def requests(self) -> list[AccessRequest]:
        return [item.request for item in self.items]


def _access_ended(session: Session, request: AccessRequest) -> bool:
    return attestations.ending_of(session, request) is not None


def _output_waits(session: Session, request: AccessRequest) -> bool:
    return bool(outputs.waiting_tracks(session, request))


S = RequestStatus
QUEUES = (
    QueueSpec(
        "yours", _l("Your drafts and requests returned to you"), "submit", Action.SUBMIT,
        ALLOWED_FROM[Action.SUBMIT],
    ),
    QueueSpec("screen", _l("To screen"), "screen", Action.SCREEN, ALLOWED_FROM[Action.SCREEN]),
    QueueSpec("review", _l("To review"), "review", Action.REVIEW, ALLOWED_FROM[Action.REVIEW]),
    # Deciding is offered to whoever may refuse (refusal is always open); it waits for
    # them once the stewards reached the quorum, while approval is possible.
    QueueSpec("decide", _l("To decide"), "decide", Action.REFUSE, ALLOWED_FROM[Action.APPROVE]),
    QueueSpec("sign", _l("To sign"), "sign", Action.SIGN, ALLOWED_FROM[Action.SIGN]),
    # Obligations: the researcher's open ones to report on; the Nation's people's reports
    # to assess (waiving an unreported one is offered on the request, not queued).
    QueueSpec(
        "report", _l("Obligations to report on"), "report_obligation", Action.REPORT_OBLIGATION,
        ALLOWED_FROM[Action.REPORT_OBLIGATION],
    ),
    QueueSpec(
        "assess", _l("Obligation reports to assess"), "assess_obligation", Action.ASSESS_OBLIGATION,
        ALLOWED_FROM[Action.ASSESS_OBLIGATION],
    ),
    # After access ends: the researcher's attestation of the data's destruction, and each
    # Nation's answer to it (found in a browser: they were only mailed, never queued).
    QueueSpec(
        "attest", _l("Destruction to attest"), "attest_destruction", Action.ATTEST_DESTRUCTION,
        ALLOWED_FROM[Action.ATTEST_DESTRUCTION], _access_ended,
    ),
    QueueSpec(
        "answer", _l("Destruction attestations to answer"), "acknowledge_destruction",
        Action.ACKNOWLEDGE_DESTRUCTION, ALLOWED_FROM[Action.ACKNOWLEDGE_DESTRUCTION],
        _access_ended,
    ),
    # Outputs before publication: a steward's review not given yet, and the Nation's
    # decision once its stewards reached the quorum (found in a browser: only mailed).
    # Read among the requests whose agreement binds, not the closed ones (which only
    # grow): an output left in review when its request closed is judged on its page.
    QueueSpec(
        "review_output", _l("Outputs to review"), "review_output", Action.REVIEW_OUTPUT,
        ALLOWED_FROM[Action.SUBMIT_OUTPUT], _output_waits,
    ),
    QueueSpec(
        "decide_output", _l("Outputs to decide on"), "decide_output", Action.DECIDE_OUTPUT,
        ALLOWED_FROM[Action.SUBMIT_OUTPUT], _output_waits,
    ),
)  # fmt: skip


def _state(spec: QueueSpec, request: AccessRequest) -> RequestStatus:
    """What a queue's step looks at, as the transition table reads it (Transition.state):
    the amendment's phase for the pipeline's steps, else the status."""
    return request.phase if spec.policy_action in PIPELINE else request.status


def _phases(spec: QueueSpec) -> set[AmendmentPhase]:
    """The amendment phases a pipeline queue's states name (an amendment has no end)."""
    return {AmendmentPhase(s.value) for s in spec.statuses if s.value in AMENDMENT_PHASES}


AMENDMENT_PHASES = frozenset(phase.value for phase in AmendmentPhase)


def _preload(session: Session, requests: list[AccessRequest]) -> None:
    """The requests' tracks and reviews, and their Nations' stewards and representatives
    (whose reviews count, who signs), each read once for the page."""
    preload(session, requests)
    nations = {nation.id: nation for r in requests for _, nation in tracks_of(session, r)}
    preload_holders(session, list(nations.values()))


def _candidates(
    session: Session, user: User, statuses: set[RequestStatus], phases: set[AmendmentPhase]
) -> list[AccessRequest]:
    """The requests ``user`` may see in the queues' states, the READ_PER_QUEUE that have
    waited longest in each state, oldest first: one statement."""
    rank = sa.func.row_number().over(
        partition_by=(AccessRequest.status, AccessRequest.amendment),
        order_by=(AccessRequest.updated_at, AccessRequest.id),
    )
    ranked = (
        select(AccessRequest.id, rank.label("rank"))
        .where(
            visible_clause(session, user),
            sa.or_(
                AccessRequest.status.in_(sorted(statuses)),
                AccessRequest.amendment.in_(sorted(phases)),
            ),
        )
        .subquery()
    )
    query = (
        select(AccessRequest)
        .join(ranked, ranked.c.id == AccessRequest.id)
        .where(ranked.c.rank <= READ_PER_QUEUE)
        .order_by(AccessRequest.updated_at, AccessRequest.id)
    )
    return list(session.exec(query).all())


def queues_for(session: Session, user: User) -> list[Queue]:
    policy = current_policy(session)
    held = holdings(session, user)
    shown = [
        spec
        for spec in QUEUES
        if any(grants(policy, h, spec.policy_action, h.domain) for h in held)
    ]
    if not shown:
        return []
    statuses = set().union(*(spec.statuses for spec in shown))
    # An active request's renewal or amendment walks the pipeline in its own phase.
    phases = {p for spec in shown if spec.policy_action in PIPELINE for p in _phases(spec)}
    candidates = _candidates(session, user, statuses, phases)
    per_state = Counter((r.status, r.amendment) for r in candidates)
    stopped = [r for r in candidates if per_state[r.status, r.amendment] >= READ_PER_QUEUE]
    _preload(session, candidates)
    preload_nations(session, candidates)
    # Every request's editions, which say the Nations a step may be done for; what the
    # signing and obligation steps ask of each request, read at once.
    editions.preload(session, [r.id for r in candidates])
    agreements.preload(session, [r for r in candidates if r.phase in ALLOWED_FROM[Action.SIGN]])
    bound = ALLOWED_FROM[Action.REPORT_OBLIGATION] | ALLOWED_FROM[Action.ASSESS_OBLIGATION]
    lifecycle.preload(session, [r for r in candidates if r.status in bound])
    attestations.preload_endings(session, [r.id for r in candidates])  # attest, answer
    judged = ALLOWED_FROM[Action.SUBMIT_OUTPUT]  # the output queues' statuses
    outputs.preload_waiting(session, [r.id for r in candidates if r.status in judged])
    waiting = [
        t for r in candidates if r.status in judged for t in outputs.waiting_tracks(session, r)
    ]
    outputs.preload_reviewed_by(session, user.id, sorted({t.output_id for t in waiting}))
    # Who an output step may be done for: the Nations of each edition in force too.
    in_force = [editions.current(session, r) for r in candidates if r.status in judged]
    editions.preload_signing_nations(session, [a for a in in_force if a is not None])
    queues = []
    for spec in shown:
        queue = Queue(spec.key, spec.title)
        for request in candidates:
            if _state(spec, request) not in spec.statuses:
                continue
            if spec.only is not None and not spec.only(session, request):
                continue
            options = offered(session, user, request, spec.action)
            since = [(o, waits_since(session, user, spec.key, request, o)) for o in options]
            if waiting := [(option, moment) for option, moment in since if moment]:
                if len(queue.items) == QUEUE_SHOWN:
                    queue.more = True
                    break
                nations = [option.nation for option, _ in waiting if option.nation]
                first = min(moment for _, moment in waiting)
                queue.items.append(Waiting(request, first, nations))
        queue.unread = not queue.more and any(_state(spec, r) in spec.statuses for r in stopped)
        queue.items.sort(key=lambda item: item.since)  # the longest wait first
        queues.append(queue)
    return queues


@dataclass
class Stalled:
    request: AccessRequest
    nations: list[Nation]  # whose eligible stewards can no longer reach the quorum
    fixable: list[Nation]  # of those, the ones this person may designate stewards for


def stalled_for(session: Session, user: User) -> list[Stalled]:
    """Requests under review (that ``user`` may see) on which a Nation whose
    deliberations they read (its own people: reads_deliberations) can no longer reach
    its quorum with its eligible stewards: its representative designates another
    steward. No one else is told: it would tell them of a conflict of interest."""
    candidates = session.exec(
        select(AccessRequest)
        .where(visible_clause(session, user), AccessRequest.status == S.UNDER_REVIEW)
        .order_by(AccessRequest.updated_at, AccessRequest.id)
        .limit(READ_PER_QUEUE)
    ).all()
    _preload(session, candidates)
    found = []
    for request in candidates:
        nations = [
            nation
            for track, nation in tracks_of(session, request)
            if track.status == TrackStatus.REVIEW
            and reads_deliberations(session, user, request, nation)  # first: no tally for others
            and tally(session, request, nation).stalled
        ]
        if nations:
            fixable = [
                n
                for n in nations
                if authorize(session, user, Action.MANAGE_PROFILE, nation=n).allowed
            ]
            found.append(Stalled(request, nations, fixable))
    return found
