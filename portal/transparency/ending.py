"""The end of access as a reader may see it (request page and API): why and when it
ended, each Nation's due date, the attestations, and each Nation's answer. A Nation's
answer and comment are read by the researcher and that Nation's own people only
(invariant 9); everyone else reads whether the Nation has acknowledged, nothing more."""

from datetime import date
from typing import Any

from sqlmodel import Session

from portal.agreements.parties import approving_nations
from portal.auth.models import User
from portal.lifecycle import attestations
from portal.policy.access import grants, holdings
from portal.policy.service import authorize
from portal.policy.store import current_policy
from portal.policy.vocabulary import Action
from portal.requests.models import AccessRequest
from portal.transparency.privacy import sight


def end_of_access(
    session: Session, viewer: User, request: AccessRequest, today: date | None = None
) -> dict[str, Any] | None:
    """None while access lasts (or never began)."""
    ending = attestations.ending_of(session, request)
    if ending is None:
        return None
    today = today or date.today()
    seen = sight(session, viewer, request)
    answers = attestations.last_answers(session, request)
    awaited = attestations.attestation_awaited(session, request)
    nations = []
    for nation in approving_nations(session, request):
        mine = answers.get(nation.id)
        acknowledged = mine is not None and mine.outcome == "acknowledged"
        due = attestations.due_on(ending, nation)
        own = seen.reads_sent(nation)
        nations.append(
            {
                "nation": nation.slug,
                "name": nation.name,
                "due_on": due.isoformat(),
                "overdue": awaited and not acknowledged and due < today,
                "acknowledged": acknowledged,
                "outcome": mine.outcome if mine and own else None,
                "comment": mine.comment if mine and own else None,
            }
        )
    made = attestations.attestations_of(session, request)
    return {
        "reason": ending.reason,
        "ended_at": ending.ended_at.isoformat(),
        "attestation_due": awaited,
        "nations": nations,
        "attestations": [
            {"number": a.number, "sha256": a.sha256, "done_on": a.done_on.isoformat()} for a in made
        ],
    }


def overdue_for(
    session: Session, viewer: User, today: date | None = None, limit: int | None = None
) -> list[attestations.Overdue]:
    """The overdue attestations flagged on ``viewer``'s home page: those owed to a
    Nation whose record they read, and every one for who follows all requests (the
    coordinators' dashboard), at most ``limit``, the longest waiting first. Never the
    researcher's own: they see theirs on the request."""
    follows_all = authorize(session, viewer, Action.VIEW_DASHBOARD).allowed
    if not follows_all and not _reads_a_record(session, viewer):
        return []  # nothing to flag: spare reading every ended request (a researcher's home)

    def readable(item: attestations.Overdue) -> bool:
        own = authorize(session, viewer, Action.VIEW_RECORD, nation=item.nation).allowed
        return follows_all or own

    return attestations.overdue_attestations(
        session, today or date.today(), keep=readable, limit=limit
    )


def _reads_a_record(session: Session, viewer: User) -> bool:
    """Whether the policy grants ``viewer`` a Nation's record anywhere they hold a role."""
    policy = current_policy(session)
    return any(grants(policy, h, Action.VIEW_RECORD, h.domain) for h in holdings(session, viewer))
