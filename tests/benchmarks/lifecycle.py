"""The requests of the benchmark generator (generate.py): each in a realistic state, with
the rows that state implies (revision, tracks, reviews, decisions, agreement) and the
audit events that led there, about EVENTS_PER_REQUEST on average. All fictional."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.agreements.models import AgreementStatus
from portal.requests.models import RequestStatus as S
from portal.reviews.models import Outcome, Recommendation, TrackStatus

EVENTS_PER_REQUEST = 20
# How often each state is met (per 100 requests).
STATES = {
    S.DRAFT: 10,
    S.SCREENING: 8,
    S.CHANGES_REQUESTED: 4,
    S.UNDER_REVIEW: 25,
    S.AWAITING_SIGNATURES: 4,
    S.ACTIVE: 25,
    S.REFUSED: 8,
    S.WITHDRAWN: 8,
    S.EXPIRED: 5,
    S.REVOKED: 3,
}
APPROVED_ALL = {S.AWAITING_SIGNATURES, S.ACTIVE, S.EXPIRED, S.REVOKED}
REVIEWED = APPROVED_ALL | {S.UNDER_REVIEW, S.REFUSED, S.CHANGES_REQUESTED}
AGREEMENT_STATUS = {
    S.AWAITING_SIGNATURES: AgreementStatus.AWAITING_SIGNATURES,
    S.ACTIVE: AgreementStatus.ACTIVE,
    S.EXPIRED: AgreementStatus.EXPIRED,
    S.REVOKED: AgreementStatus.REVOKED,
}
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOPICS = (
    "school completion",
    "diabetes care",
    "child welfare placements",
    "elder care",
    "language programs",
    "youth justice diversion",
    "maternal health",
)


def ref_of(number: int) -> str:
    """A unique reference of the portal's form (R-XXXX-XXXX) for request ``number``."""
    chars = ""
    for _ in range(8):
        number, digit = divmod(number, len(_REF_ALPHABET))
        chars = _REF_ALPHABET[digit] + chars
    return f"R-{chars[:4]}-{chars[4:]}"


@dataclass
class Rows:
    """What one batch of requests writes, table by table (events kept apart: chained later)."""

    tables: dict[str, list[dict]] = field(default_factory=dict)
    events: list[tuple[dict, list[int]]] = field(default_factory=list)  # (row, nation ids)

    def add(self, table: str, **row) -> None:
        self.tables.setdefault(table, []).append(row)


@dataclass(frozen=True)
class World:
    """The registry and people the requests are made of (ids from generate.py)."""

    researchers: list[int]
    busy_researcher: int  # files one request in BUSY_SHARE: the researcher benchmarked
    coordinators: list[int]
    stewards: dict[int, list[int]]  # nation id -> its stewards
    representatives: dict[int, list[int]]
    datasets: list[tuple[int, str, tuple[int, ...]]]  # (id, slug, nation ids)
    dataset_weights: list[int]
    emails: dict[int, str]


BUSY_SHARE = 200


def make_request(
    rows: Rows, world: World, rng: random.Random, number: int, created: datetime, now: datetime
) -> None:
    status = rng.choices(list(STATES), list(STATES.values()))[0]
    researcher = (
        world.busy_researcher if number % BUSY_SHARE == 0 else rng.choice(world.researchers)
    )
    chosen = [world.datasets[i] for i in sorted(_dataset_picks(world, rng))]
    nations = sorted({n for _, _, ns in chosen for n in ns})
    span = min((now - created).total_seconds(), rng.uniform(5, 120) * 86400)
    moments = sorted(rng.uniform(0, span) for _ in range(64))
    clock = iter(created + timedelta(seconds=s) for s in moments)
    events: list[tuple[datetime, int | None, str, dict, list[int]]] = []

    def event(action: str, actor: int | None, ns=(), **details) -> datetime:
        at = next(clock)
        events.append((at, actor, action, details, list(ns)))
        return at

    topic = rng.choice(TOPICS)
    title = f"{topic.capitalize()} study {number} (fictional)"
    event("request.created", researcher)
    submitted = status != S.DRAFT
    fields = {
        "title": title,
        "purpose": f"To understand {topic} (fictional).",
        "datasets": sorted(slug for _, slug, _ in chosen),
        "methods": "Linked cohort analysis.",
        "community_benefit": "Program planning.",
        "harm_assessment": "Small cells suppressed.",
        "ethics_approval": "REB-0000 (fictional)",
        "storage_location": "CA-ON",
        "retention_days": 730,
        "team": [],
    }
    for _ in range(rng.randrange(0, 3)):
        event("request.edited", researcher, fields=["purpose"])
    track_status: dict[int, TrackStatus] = {}
    if submitted:
        at = event("request.submitted", researcher, nations, revision=1)
        rows.add(
            "request_revision",
            request_id=number,
            number=1,
            fields=fields,
            submitted_by_id=researcher,
            submitted_at=at,
        )
        coordinator = rng.choice(world.coordinators)
        if status in REVIEWED or (status == S.WITHDRAWN and rng.random() < 0.5):
            event("request.screened", coordinator, nations, comment="")
            track_status = _tracks_and_decisions(rows, world, rng, number, status, nations, event)
        if status == S.WITHDRAWN:
            event("request.withdrawn", researcher, nations, reason="Study cancelled.")
    last = _pad_and_finish(rows, world, rng, number, status, nations, events, event, researcher)
    updated = last or created
    for nation_id, state in track_status.items():
        rows.add(
            "nation_track", request_id=number, nation_id=nation_id, status=state, updated_at=updated
        )
    rows.add(
        "access_request",
        id=number,
        ref=ref_of(number),
        researcher_id=researcher,
        status=status,
        title=title,
        purpose=fields["purpose"],
        methods=fields["methods"],
        community_benefit=fields["community_benefit"],
        harm_assessment=fields["harm_assessment"],
        ethics_approval=fields["ethics_approval"],
        storage_location="CA-ON",
        retention_days=730,
        team=[],
        current_revision=1 if submitted else 0,
        created_at=created,
        updated_at=updated,
    )
    for dataset_id, _, _ in chosen:
        rows.add("request_dataset", request_id=number, dataset_id=dataset_id)
    for at, actor, action, details, ns in sorted(events, key=lambda e: e[0]):
        label = world.emails.get(actor, "system") if actor else "system"
        row = dict(
            occurred_at=at,
            actor_id=actor,
            actor_label=label,
            action=action,
            request_id=number,
            details=details,
            client_address="192.0.2.10",
        )
        rows.events.append((row, ns))


def _dataset_picks(world: World, rng: random.Random) -> set[int]:
    count = rng.choices((1, 2, 3), (70, 25, 5))[0]
    indexes = range(len(world.datasets))
    return set(rng.choices(indexes, world.dataset_weights, k=count))


def _tracks_and_decisions(rows, world, rng, number, status, nations, event) -> dict:
    """Each Nation's track, its stewards' reviews and its decision, as the state implies."""
    refusing = rng.choice(nations) if status in {S.REFUSED, S.REVOKED} else None
    asking = rng.choice(nations) if status == S.CHANGES_REQUESTED else None
    found = {}
    for nation_id in nations:
        stewards = world.stewards[nation_id]
        if status in APPROVED_ALL or nation_id == refusing:
            state, reviewers = TrackStatus.APPROVED, rng.sample(stewards, 2)
        elif status == S.UNDER_REVIEW:
            state = rng.choice((TrackStatus.REVIEW, TrackStatus.DECISION, TrackStatus.APPROVED))
            reviewers = [] if state == TrackStatus.REVIEW else rng.sample(stewards, 1)
        else:
            state, reviewers = TrackStatus.REVIEW, [stewards[0]] if nation_id == asking else []
        for steward in reviewers:
            recommend = Recommendation.CHANGES if nation_id == asking else Recommendation.APPROVE
            at = event("review.recorded", steward, [nation_id], recommendation=str(recommend))
            rows.add(
                "review",
                request_id=number,
                nation_id=nation_id,
                revision=1,
                steward_id=steward,
                recommendation=recommend,
                conflict_of_interest=False,
                criteria={"need": "Shown (fictional)."},
                comment="Fictional review.",
                created_at=at,
            )
        if nation_id == asking:
            event("request.changes_requested", stewards[0], [nation_id], comment="Clarify.")
        representative = world.representatives[nation_id][0]
        if state == TrackStatus.APPROVED or nation_id == refusing:
            outcome = Outcome.REFUSE if status == S.REFUSED and nation_id == refusing else None
            outcome = outcome or Outcome.APPROVE
            at = event(
                f"decision.{'refused' if outcome == Outcome.REFUSE else 'approved'}",
                representative,
                [nation_id],
                reason="",
                conditions=[],
            )
            rows.add(
                "decision",
                request_id=number,
                nation_id=nation_id,
                revision=1,
                representative_id=representative,
                outcome=outcome,
                reason="",
                conditions=[],
                rules_version=1,
                decided_at=at,
            )
            state = TrackStatus.REFUSED if outcome == Outcome.REFUSE else TrackStatus.APPROVED
        found[nation_id] = state
    if status == S.REVOKED:
        found[refusing] = TrackStatus.REVOKED
    return found


def _pad_and_finish(rows, world, rng, number, status, nations, events, event, researcher):
    """Messages (or, on drafts, edits) up to this request's share of events, then the
    agreement and its signatures, expiry or revocation. The last event's time."""
    wanted = rng.randrange(EVENTS_PER_REQUEST // 2, EVENTS_PER_REQUEST * 3 // 2 + 1)
    ending = 0 if status not in APPROVED_ALL else 1 + len(nations) + 1
    while len(events) + ending < wanted:
        if status == S.DRAFT:
            event("request.edited", researcher, fields=["methods"])
        else:
            writer = rng.choice([researcher, *world.coordinators[:3]])
            event(
                "message.posted",
                writer,
                nations,
                channel="coordinators",
                as_nation=False,
                body="A fictional question about the data.",
            )
    if status in APPROVED_ALL:
        issued = events[-1][0]
        signed = [researcher] + [world.representatives[n][0] for n in nations]
        if status == S.AWAITING_SIGNATURES:
            signed = signed[:1]
        for signer in signed:
            event("agreement.signed", signer, nations, party="researcher")
        if status == S.EXPIRED:
            event("request.expired", None, nations)
        if status == S.REVOKED:
            event(
                "request.revoked",
                world.representatives[nations[0]][0],
                nations[:1],
                reason="Fictional revocation.",
            )
        rows.add(
            "agreement",
            request_id=number,
            revision=1,
            language="en",
            status=AGREEMENT_STATUS[status],
            term_start=issued.date(),
            term_end=issued.date() + timedelta(days=730),
            version=len(signed),
            sha256=f"{number:064x}",
            rules_version=1,
            issued_at=issued,
            updated_at=issued,
        )
    return max(at for at, *_ in events)
