"""The rules on what a request says that it does not meet yet, named early.

A Nation's approval needs conditions on what the request says (where the data is
stored, for how long, the team, the datasets, the ethics approval: the portal-wide lines
and the Nation's own). Asked only when the representative decides, a request that
cannot meet them reached the decide page with nothing left but refusal. Named on the
request's pages while a decision is still ahead, the researcher can change it, and a
steward can ask them to, first. The rules on the deliberation (quorum, approvals) are
not named here: the tracks say where those stand.
"""

from sqlmodel import Session

from portal.policy.conditions import Facts
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.workflow.nation_rules import (
    ABOUT_THE_REQUEST,
    NATION_RULE_ACTIONS,
    blocking,
    nation_rules,
    required_everywhere,
)

# The conditions that look only at what the request says: those a Nation may choose on
# it, and its profile's residency and longest term.
ON_WHAT_IT_SAYS = frozenset({*ABOUT_THE_REQUEST, "storage_in_jurisdiction", "term_within_limit"})


def unmet(
    session: Session, request: AccessRequest, nation: Nation, datasets: list[str] | None = None
) -> list[str]:
    """Why the Nation's review or approval would be blocked by what ``request`` says,
    each reason once (none: nothing it says stands in the way). ``datasets``: the slugs
    its researcher's edits name, when they are judged (None: the request's own)."""
    facts = Facts(session=session, nation=nation, request=request, dataset_slugs=datasets)
    found: list[str] = []
    for action in NATION_RULE_ACTIONS:
        chosen = required_everywhere(session, action) + nation_rules(session, nation)[action]
        on_what_it_says = [(name, params) for name, params in chosen if name in ON_WHAT_IT_SAYS]
        found += [m for m in blocking(facts, on_what_it_says) if m not in found]
    return found
