"""Named governance conditions: the small vocabulary policy lines attach to actions.

A line ``p2, *, approve, quorum_met`` makes every approval need ``quorum_met``;
``p2, kestrel-river, review, ethics_approval_given`` adds a rule for one Nation, and
``p2, kestrel-river, approve, team_at_most, count=5`` one with a parameter
(portal/policy/parameters.py). Each condition declares its parameters and a sentence
saying the rule with their values (SIGNATURES); it looks at the facts of the case (the
Nation and its profile, the request, the counted reviews) and returns None when it
holds, else a BlockingRule whose message says, in words a person understands, what is
missing.

No condition looks at the clock: waiting never makes one hold (invariant 3).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlmodel import Session, func, select

from portal.auth.models import User
from portal.errors import BlockingRule
from portal.policy.parameters import Parameter, values
from portal.policy.vocabulary import NOT_OWN_REQUEST
from portal.registry.models import DatasetNation, Nation
from portal.requests.models import AccessRequest, RequestDataset, RequestStatus
from portal.reviews.models import Recommendation, Review
from portal.reviews.service import counted_reviews

Params = Mapping[str, object]
# evaluate(facts, params=None): the parameters as a line or a form gives them.
Condition = Callable[..., BlockingRule | None]
CONDITIONS: dict[str, Condition] = {}


@dataclass(frozen=True)
class Signature:
    """What a condition takes, and the sentence that says its rule."""

    name: str
    parameters: tuple[Parameter, ...]
    sentence: str  # with a {placeholder} per parameter

    def words(self, params: Params | None = None) -> str:
        """The rule in a sentence, with the values given (or the defaults)."""
        return self.sentence.format(**values(self.parameters, params or {}))


SIGNATURES: dict[str, Signature] = {}

# A request may be withdrawn before it was ever screened, so withdrawal is not "passed".
NOT_SCREENED = frozenset(
    {
        RequestStatus.DRAFT,
        RequestStatus.SCREENING,
        RequestStatus.CHANGES_REQUESTED,
        RequestStatus.WITHDRAWN,
    }
)


@dataclass
class Facts:
    """What conditions may look at. Reviews are read once, on first use."""

    session: Session
    nation: Nation | None
    request: AccessRequest | None
    user: User | None = None

    @cached_property
    def counted_reviews(self) -> list[Review]:
        """The reviews that count toward quorum (portal.reviews.service says which)."""
        if self.nation is None or self.request is None or self.request.id is None:
            return []
        return counted_reviews(self.session, self.request, self.nation)

    @cached_property
    def nations_datasets(self) -> int:
        """How many of the Nation's datasets the request asks for."""
        if self.nation is None or self.request is None or self.request.id is None:
            return 0
        query = (
            select(func.count())
            .select_from(RequestDataset)
            .join(DatasetNation, DatasetNation.dataset_id == RequestDataset.dataset_id)
            .where(
                RequestDataset.request_id == self.request.id,
                DatasetNation.nation_id == self.nation.id,
            )
        )
        return self.session.exec(query).one()


class MissingFact(Exception):
    """A condition was asked without the Nation or request it needs."""


def condition(
    name: str, *parameters: Parameter, sentence: str = ""
) -> Callable[[Callable[..., str | None]], Condition]:
    """Register ``check`` (facts, **parameters -> message when it fails, else None) under
    ``name``, with the parameters it takes and the sentence that says its rule (by
    default its docstring)."""

    def register(check: Callable[..., str | None]) -> Condition:
        words = sentence or " ".join((check.__doc__ or "").split())
        SIGNATURES[name] = Signature(name, parameters, words)

        def evaluate(facts: Facts, params: Params | None = None) -> BlockingRule | None:
            try:
                message = check(facts, **values(parameters, params or {}))
            except MissingFact as missing:
                message = str(missing)
            return None if message is None else BlockingRule(rule=name, message=message)

        evaluate.__name__ = evaluate.__qualname__ = check.__name__
        evaluate.__doc__ = check.__doc__
        CONDITIONS[name] = evaluate
        return evaluate

    return register


def _nation(facts: Facts) -> Nation:
    if facts.nation is None:
        raise MissingFact("This rule is a Nation's, but no Nation was named.")
    return facts.nation


def _request(facts: Facts) -> AccessRequest:
    if facts.request is None:
        raise MissingFact("There is no request to check this rule against.")
    return facts.request


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@condition("quorum_met")
def quorum_met(facts: Facts) -> str | None:
    """The Nation's review quorum of designated, unconflicted stewards on this revision."""
    nation, _ = _nation(facts), _request(facts)
    recorded = len(facts.counted_reviews)
    if recorded >= nation.review_quorum:
        return None
    needed = _plural(nation.review_quorum, "steward review")
    return f"{nation.name} requires {needed} of this revision; {recorded} recorded."


@condition("min_approvals_met")
def min_approvals_met(facts: Facts) -> str | None:
    """Enough of the counted reviews recommend approval."""
    nation, _ = _nation(facts), _request(facts)
    approvals = sum(r.recommendation == Recommendation.APPROVE for r in facts.counted_reviews)
    if approvals >= nation.min_approvals:
        return None
    needed = _plural(nation.min_approvals, "steward recommendation")
    return f"{nation.name} requires {needed} to approve this revision; {approvals} recorded."


def within(location: str, jurisdiction: str) -> bool:
    """Whether ISO 3166 ``location`` lies within ``jurisdiction`` (CA-ON is within CA)."""
    return location == jurisdiction or location.startswith(jurisdiction + "-")


@condition("storage_in_jurisdiction")
def storage_in_jurisdiction(facts: Facts) -> str | None:
    """The declared storage location lies within one of the Nation's residency codes."""
    nation, request = _nation(facts), _request(facts)
    if not nation.residency:
        return None
    allowed = " or ".join(nation.residency)
    if not request.storage_location:
        return (
            f"{nation.name} requires the data to be stored in {allowed}; "
            "this request does not say where it will be stored."
        )
    if any(within(request.storage_location, code) for code in nation.residency):
        return None
    return (
        f"{nation.name} requires the data to be stored in {allowed}; "
        f"this request would store it in {request.storage_location}."
    )


@condition("term_within_limit")
def term_within_limit(facts: Facts) -> str | None:
    """The declared retention is no longer than the Nation's maximum term."""
    nation, request = _nation(facts), _request(facts)
    if nation.max_term_days is None:
        return None
    if request.retention_days is None:
        return (
            f"{nation.name} allows a term of at most {nation.max_term_days} days; "
            "this request does not say how long the data will be kept."
        )
    if request.retention_days <= nation.max_term_days:
        return None
    return (
        f"{nation.name} allows a term of at most {nation.max_term_days} days; "
        f"this request asks for {request.retention_days}."
    )


@condition("screened")
def screened(facts: Facts) -> str | None:
    """The request has passed the coordinator's screening."""
    request = _request(facts)
    if request.phase not in NOT_SCREENED:  # a renewal's or amendment's own screening
        return None
    return (
        "This request has not passed the coordinator's screening "
        f"(it is {request.phase.label.lower()})."
    )


@condition("ethics_approval_given")
def ethics_approval_given(facts: Facts) -> str | None:
    """The request names its ethics approval (the board and the reference)."""
    if _request(facts).ethics_approval.strip():
        return None
    return "The request names no ethics approval: give the ethics board and its reference."


@condition(NOT_OWN_REQUEST)
def not_own_request(facts: Facts) -> str | None:
    """No one judges their own request: its researcher and team members never review,
    decide or sign for a Nation on it, nor read its own discussion of it, whatever roles
    they hold (invariant 10)."""
    request = _request(facts)
    if facts.nation is None or facts.user is None:  # the researcher signing for themself
        return None
    if not request.involves(facts.user.id, facts.user.email):
        return None
    return (
        "You are on the requesting side of this request (its researcher or on its team): "
        f"you cannot review, decide or sign for {facts.nation.name} on it, "
        "nor take part in its own discussion of it."
    )


# --- conditions a Nation may add to its own review and approval (its governance page)


def _words(text: str) -> int:
    return len(text.split())


def _described(facts: Facts, field: str, what: str, min_words: int) -> str | None:
    nation, request = _nation(facts), _request(facts)
    written = _words(getattr(request, field))
    if written >= min_words:
        return None
    return (
        f"{nation.name} requires {what} described in at least {_plural(min_words, 'word')}; "
        f"this request gives {written}."
    )


MIN_WORDS = Parameter("min_words", "Fewest words", minimum=1, default=50)


@condition(
    "community_benefit_described",
    MIN_WORDS,
    sentence="The request describes its benefit to the community in at least {min_words} words.",
)
def community_benefit_described(facts: Facts, min_words: int) -> str | None:
    return _described(facts, "community_benefit", "the benefit to the community", min_words)


@condition(
    "harm_assessment_described",
    MIN_WORDS,
    sentence="The request assesses its possible harms in at least {min_words} words.",
)
def harm_assessment_described(facts: Facts, min_words: int) -> str | None:
    return _described(facts, "harm_assessment", "the possible harms", min_words)


@condition(
    "team_at_most",
    Parameter("count", "Most team members", minimum=1, default=5),
    sentence="The request names at most {count} team members who will handle the data.",
)
def team_at_most(facts: Facts, count: int) -> str | None:
    nation, request = _nation(facts), _request(facts)
    named = len(request.team or [])
    if named <= count:
        return None
    return (
        f"{nation.name} allows at most {_plural(count, 'team member')} on a request; "
        f"this request names {named}."
    )


@condition(
    "datasets_at_most",
    Parameter("count", "Most datasets", minimum=1, default=3),
    sentence="The request asks for at most {count} of the Nation's datasets.",
)
def datasets_at_most(facts: Facts, count: int) -> str | None:
    nation, _ = _nation(facts), _request(facts)
    asked = facts.nations_datasets
    if asked <= count:
        return None
    return (
        f"{nation.name} allows at most {count} of its datasets in one request; "
        f"this request asks for {asked}."
    )


@condition(
    "recommendations_unanimous",
    sentence="Every counted steward review of this revision recommends approval.",
)
def recommendations_unanimous(facts: Facts) -> str | None:
    nation, _ = _nation(facts), _request(facts)
    dissent = sum(r.recommendation != Recommendation.APPROVE for r in facts.counted_reviews)
    if dissent == 0:
        return None
    reviews = _plural(dissent, "counted steward review")
    return (
        f"{nation.name} requires every steward review of this revision to recommend approval; "
        f"{reviews} recommend{'s' if dissent == 1 else ''} otherwise."
    )
