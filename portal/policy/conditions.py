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

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlmodel import Session, func, select

from portal.auth.models import User
from portal.errors import BlockingRule
from portal.policy.parameters import Parameter, values
from portal.policy.vocabulary import NOT_OWN_REQUEST, NOT_OWN_SCREENING
from portal.registry.models import Dataset, DatasetNation, Nation
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
    sentence: str  # with a {placeholder} per parameter (lazy: in the language spoken)

    def words(self, params: Params | None = None) -> str:
        """The rule in a sentence, in the language spoken, with the values given (or the
        defaults)."""
        return str(self.sentence).format(**values(self.parameters, params or {}))


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
    # The datasets' slugs when they are not the request's own yet (its researcher's
    # edits not submitted); None: read the request's datasets.
    dataset_slugs: list[str] | None = None

    @cached_property
    def counted_reviews(self) -> list[Review]:
        """The reviews that count toward quorum (portal.reviews.service says which)."""
        if self.nation is None or self.request is None or self.request.id is None:
            return []
        return counted_reviews(self.session, self.request, self.nation)

    @cached_property
    def nations_datasets(self) -> int:
        """How many of the Nation's datasets the request asks for."""
        if self.nation is None or self.request is None:
            return 0
        query = select(func.count()).select_from(DatasetNation)
        if self.dataset_slugs is not None:
            query = query.join(Dataset, Dataset.id == DatasetNation.dataset_id).where(
                Dataset.slug.in_(self.dataset_slugs)
            )
        elif self.request.id is not None:
            query = query.join(
                RequestDataset, RequestDataset.dataset_id == DatasetNation.dataset_id
            ).where(RequestDataset.request_id == self.request.id)
        else:
            return 0
        return self.session.exec(query.where(DatasetNation.nation_id == self.nation.id)).one()


class MissingFact(Exception):
    """A condition was asked without the Nation or request it needs."""


def condition(
    name: str, *parameters: Parameter, sentence: object = ""
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
        raise MissingFact(_("This rule is a Nation's, but no Nation was named."))
    return facts.nation


def _request(facts: Facts) -> AccessRequest:
    if facts.request is None:
        raise MissingFact(_("There is no request to check this rule against."))
    return facts.request


@condition(
    "quorum_met",
    sentence=_l(
        "The Nation's review quorum of designated, unconflicted stewards on this revision."
    ),
)
def quorum_met(facts: Facts) -> str | None:
    """The Nation's review quorum of designated, unconflicted stewards on this revision."""
    nation, _asked = _nation(facts), _request(facts)
    recorded = len(facts.counted_reviews)
    if recorded >= nation.review_quorum:
        return None
    return ngettext(
        "%(nation)s requires %(num)s steward review of this revision; %(recorded)s recorded.",
        "%(nation)s requires %(num)s steward reviews of this revision; %(recorded)s recorded.",
        nation.review_quorum,
        nation=nation.name,
        recorded=recorded,
    )


@condition("min_approvals_met", sentence=_l("Enough of the counted reviews recommend approval."))
def min_approvals_met(facts: Facts) -> str | None:
    """Enough of the counted reviews recommend approval."""
    nation, _asked = _nation(facts), _request(facts)
    approvals = sum(r.recommendation == Recommendation.APPROVE for r in facts.counted_reviews)
    if approvals >= nation.min_approvals:
        return None
    return ngettext(
        "%(nation)s requires %(num)s steward recommendation to approve this revision; "
        "%(approvals)s recorded.",
        "%(nation)s requires %(num)s steward recommendations to approve this revision; "
        "%(approvals)s recorded.",
        nation.min_approvals,
        nation=nation.name,
        approvals=approvals,
    )


def within(location: str, jurisdiction: str) -> bool:
    """Whether ISO 3166 ``location`` lies within ``jurisdiction`` (CA-ON is within CA)."""
    return location == jurisdiction or location.startswith(jurisdiction + "-")


def places_allowed(nation: Nation) -> str:
    """The Nation's residency codes in words ("CA or US-WA"); empty for none."""
    allowed = nation.residency[0] if nation.residency else ""
    for code in nation.residency[1:]:
        allowed = _("%(items)s or %(last)s", items=allowed, last=code)
    return allowed


@condition(
    "storage_in_jurisdiction",
    sentence=_l("The declared storage location lies within one of the Nation's residency codes."),
)
def storage_in_jurisdiction(facts: Facts) -> str | None:
    """The declared storage location lies within one of the Nation's residency codes."""
    nation, request = _nation(facts), _request(facts)
    if not nation.residency:
        return None
    allowed = places_allowed(nation)
    if not request.storage_location:
        return _(
            "%(nation)s requires the data to be stored in %(allowed)s; "
            "this request does not say where it will be stored.",
            nation=nation.name,
            allowed=allowed,
        )
    if any(within(request.storage_location, code) for code in nation.residency):
        return None
    return _(
        "%(nation)s requires the data to be stored in %(allowed)s; "
        "this request would store it in %(location)s.",
        nation=nation.name,
        allowed=allowed,
        location=request.storage_location,
    )


@condition(
    "term_within_limit",
    sentence=_l("The declared retention is no longer than the Nation's maximum term."),
)
def term_within_limit(facts: Facts) -> str | None:
    """The declared retention is no longer than the Nation's maximum term."""
    nation, request = _nation(facts), _request(facts)
    if nation.max_term_days is None:
        return None
    if request.retention_days is None:
        return _(
            "%(nation)s allows a term of at most %(days)s days; "
            "this request does not say how long the data will be kept.",
            nation=nation.name,
            days=nation.max_term_days,
        )
    if request.retention_days <= nation.max_term_days:
        return None
    return _(
        "%(nation)s allows a term of at most %(days)s days; this request asks for %(asked)s.",
        nation=nation.name,
        days=nation.max_term_days,
        asked=request.retention_days,
    )


@condition("screened", sentence=_l("The request has passed the coordinator's screening."))
def screened(facts: Facts) -> str | None:
    """The request has passed the coordinator's screening."""
    request = _request(facts)
    if request.phase not in NOT_SCREENED:  # a renewal's or amendment's own screening
        return None
    return _(
        "This request has not passed the coordinator's screening (it is %(phase)s).",
        phase=request.phase.label.lower(),
    )


@condition(
    "ethics_approval_given",
    sentence=_l("The request names its ethics approval (the board and the reference)."),
)
def ethics_approval_given(facts: Facts) -> str | None:
    """The request names its ethics approval (the board and the reference)."""
    if _request(facts).ethics_approval.strip():
        return None
    return _("The request names no ethics approval: give the ethics board and its reference.")


@condition(
    NOT_OWN_REQUEST,
    sentence=_l(
        "No one judges their own request: its researcher and team members never review, "
        "decide or sign for a Nation on it, nor read its own discussion of it, whatever "
        "roles they hold (invariant 10)."
    ),
)
def not_own_request(facts: Facts) -> str | None:
    """No one judges their own request: its researcher and team members never review,
    decide or sign for a Nation on it, nor read its own discussion of it, whatever roles
    they hold (invariant 10)."""
    request = _request(facts)
    if facts.nation is None or facts.user is None:  # the researcher signing for themself
        return None
    if not request.involves(facts.user.id, facts.user.email):
        return None
    return _(
        "You are on the requesting side of this request (its researcher or on its team): "
        "you cannot review, decide or sign for %(nation)s on it, "
        "nor take part in its own discussion of it.",
        nation=facts.nation.name,
    )


@condition(
    NOT_OWN_SCREENING,
    sentence=_l(
        "No one screens their own request: its researcher and team members never screen "
        "it, whatever roles they hold (invariant 10)."
    ),
)
def not_own_screening(facts: Facts) -> str | None:
    """No one screens their own request (invariant 10). Screening acts for no Nation,
    so not_own_request, which lets the researcher sign as themself, does not say it."""
    request = _request(facts)
    if facts.user is None or not request.involves(facts.user.id, facts.user.email):
        return None
    return _(
        "You are on the requesting side of this request (its researcher or on its team): "
        "you cannot screen it; another coordinator does."
    )


# --- conditions a Nation may add to its own review and approval (its governance page)


def _words(text: str) -> int:
    return len(text.split())


def _described(facts: Facts, field: str, what: object, min_words: int) -> str | None:
    nation, request = _nation(facts), _request(facts)
    written = _words(getattr(request, field))
    if written >= min_words:
        return None
    return ngettext(
        "%(nation)s requires %(what)s described in at least %(num)s word; "
        "this request gives %(written)s.",
        "%(nation)s requires %(what)s described in at least %(num)s words; "
        "this request gives %(written)s.",
        min_words,
        nation=nation.name,
        what=str(what),
        written=written,
    )


MIN_WORDS = Parameter("min_words", _l("Fewest words"), minimum=1, default=50)


@condition(
    "community_benefit_described",
    MIN_WORDS,
    sentence=_l(
        "The request describes its benefit to the community in at least {min_words} words."
    ),
)
def community_benefit_described(facts: Facts, min_words: int) -> str | None:
    return _described(facts, "community_benefit", _l("the benefit to the community"), min_words)


@condition(
    "harm_assessment_described",
    MIN_WORDS,
    sentence=_l("The request assesses its possible harms in at least {min_words} words."),
)
def harm_assessment_described(facts: Facts, min_words: int) -> str | None:
    return _described(facts, "harm_assessment", _l("the possible harms"), min_words)


@condition(
    "team_at_most",
    Parameter("count", _l("Most team members"), minimum=1, default=5),
    sentence=_l("The request names at most {count} team members who will handle the data."),
)
def team_at_most(facts: Facts, count: int) -> str | None:
    nation, request = _nation(facts), _request(facts)
    named = len(request.team or [])
    if named <= count:
        return None
    return ngettext(
        "%(nation)s allows at most %(num)s team member on a request; this request names %(named)s.",
        "%(nation)s allows at most %(num)s team members on a request; "
        "this request names %(named)s.",
        count,
        nation=nation.name,
        named=named,
    )


@condition(
    "datasets_at_most",
    Parameter("count", _l("Most datasets"), minimum=1, default=3),
    sentence=_l("The request asks for at most {count} of the Nation's datasets."),
)
def datasets_at_most(facts: Facts, count: int) -> str | None:
    nation, _asked = _nation(facts), _request(facts)
    asked = facts.nations_datasets
    if asked <= count:
        return None
    return _(
        "%(nation)s allows at most %(count)s of its datasets in one request; "
        "this request asks for %(asked)s.",
        nation=nation.name,
        count=count,
        asked=asked,
    )


@condition(
    "recommendations_unanimous",
    sentence=_l("Every counted steward review of this revision recommends approval."),
)
def recommendations_unanimous(facts: Facts) -> str | None:
    nation, _asked = _nation(facts), _request(facts)
    dissent = sum(r.recommendation != Recommendation.APPROVE for r in facts.counted_reviews)
    if dissent == 0:
        return None
    return ngettext(
        "%(nation)s requires every steward review of this revision to recommend approval; "
        "%(num)s counted steward review recommends otherwise.",
        "%(nation)s requires every steward review of this revision to recommend approval; "
        "%(num)s counted steward reviews recommend otherwise.",
        dissent,
        nation=nation.name,
    )
