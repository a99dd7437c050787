"""The rules on what a request says that it does not meet yet, named early.

A Nation's approval needs conditions on what the request says (where the data is
stored, for how long, the team, the datasets, the ethics approval: the portal-wide lines
and the Nation's own). Asked only when the representative decides, a request that
cannot meet them reached the decide page with nothing left but refusal. Named on the
request's pages while a decision is still ahead, the researcher can change it, and a
steward can ask them to, first; and before a draft exists, the new-request form says
what each Nation asks (``asked``), from the same rules. The rules on the deliberation
(quorum, approvals) are not named here: the tracks say where those stand.
"""

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlmodel import Session

from portal.policy.conditions import SIGNATURES, Facts, places_allowed
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.workflow.nation_rules import (
    ABOUT_THE_REQUEST,
    NATION_RULE_ACTIONS,
    Chosen,
    blocking,
    nation_rules,
    required_everywhere,
)

# The conditions that look only at what the request says: those a Nation may choose on
# it, and its profile's residency and longest term.
ON_WHAT_IT_SAYS = frozenset({*ABOUT_THE_REQUEST, "storage_in_jurisdiction", "term_within_limit"})


def _on_what_it_says(session: Session, nation: Nation) -> list[Chosen]:
    """The conditions on what a request says that the Nation's review or approval needs
    (the portal-wide lines and its own), each once."""
    found: list[Chosen] = []
    for action in NATION_RULE_ACTIONS:
        chosen = required_everywhere(session, action) + nation_rules(session, nation)[action]
        found += [c for c in chosen if c[0] in ON_WHAT_IT_SAYS and c not in found]
    return found


def unmet(
    session: Session, request: AccessRequest, nation: Nation, datasets: list[str] | None = None
) -> list[str]:
    """Why the Nation's review or approval would be blocked by what ``request`` says,
    each reason once (none: nothing it says stands in the way). ``datasets``: the slugs
    its researcher's edits name, when they are judged (None: the request's own)."""
    facts = Facts(session=session, nation=nation, request=request, dataset_slugs=datasets)
    return list(dict.fromkeys(blocking(facts, _on_what_it_says(session, nation))))


def _in_words(nation: Nation, name: str, params: dict[str, str]) -> str | None:
    """A rule in words, with the Nation's values; None for a rule of its profile that it
    does not set (any place, any term)."""
    if name == "storage_in_jurisdiction":
        allowed = places_allowed(nation)
        return _("The data is stored in %(allowed)s.", allowed=allowed) if allowed else None
    if name == "term_within_limit":
        days = nation.max_term_days
        return None if days is None else _("The data is kept for at most %(days)s days.", days=days)
    return SIGNATURES[name].words(params)


def asked(session: Session, nation: Nation) -> list[str]:
    """What the Nation asks of what a request says, each rule once, before anything is
    written (the new-request form): the rules unmet() judges a draft by."""
    said = (_in_words(nation, *chosen) for chosen in _on_what_it_says(session, nation))
    return list(dict.fromkeys(words for words in said if words))


def asked_by(session: Session, nations: Iterable[Nation]) -> list[tuple[Nation, list[str]]]:
    """What each of ``nations`` asks (those that ask something), by name."""
    ordered = sorted({nation.id: nation for nation in nations}.values(), key=lambda n: n.name)
    return [(nation, words) for nation in ordered if (words := asked(session, nation))]
