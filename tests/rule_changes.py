"""A portal-wide change to the catalogue of standard conditions and the agreement's
standard clauses, installed as an approved proposal would install it, for the tests
of the versioned catalogue and clauses."""

from typing import Any

from portal.db import session_scope
from portal.policy import versions
from portal.policy.models import RulesOrigin

# The members reword one condition, add one, remove one; reword one clause (its text
# would be markup if the agreement did not escape it), add one and remove one.
NEW_AGGREGATE = "Only aggregate tables leave the project; cells under {threshold} stay hidden."
ELDERS_FIRST = "{nation}'s Elders read the results first, in {location}."
NEW_REIDENTIFICATION = "Nobody tries to learn who anyone in the data is <b>by any means</b>."
SOVEREIGNTY = "Each Nation's laws on its data apply alongside this agreement."
CHANGES: dict[str, Any] = {
    "catalogue": {
        "aggregate_only": {"label": "Aggregate tables only", "text": NEW_AGGREGATE},
        "elders_first": {"label": "The Elders read the results first", "text": ELDERS_FIRST},
        "no_linkage": None,
    },
    "clauses": {
        "no_reidentification": {"title": "No re-identification.", "text": NEW_REIDENTIFICATION},
        "nations_laws": {"title": "The Nations' own laws.", "text": SOVEREIGNTY},
        "ownership": None,
    },
}


def install(app, changes: dict[str, Any] = CHANGES) -> int:
    """Install ``changes`` as the next rules version; its number."""
    with app.app_context(), session_scope() as session:
        version = versions.install(
            session, changes, origin=RulesOrigin.PROPOSAL, summary="The members' change"
        )
        return version.number
