"""What the tests of portal-wide rule changes share: member Nations with a
representative each, commands run as a person in a transaction of their own, and the
change sets that break each invariant."""

from sqlmodel import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.db import session_scope
from portal.policy.models import Proposal, ProposalVote, RulesVersion
from portal.registry import service as registry
from portal.workflow.proposals import Propose, VoteOnProposal, govern

# A change with an effect anyone can see: researchers may no longer withdraw.
NO_WITHDRAW = {"lines": {"add": [], "remove": [["p", "researcher", "*", "withdraw"]]}}
# Coordinators may read every Nation's record.
# A change any member may want or not: stewards review only with ethics approval named.
ETHICS_FIRST = {"lines": {"add": [["p2", "*", "review", "ethics_approval_given"]], "remove": []}}


def lines(add=(), remove=()) -> dict:
    return {"lines": {"add": [list(x) for x in add], "remove": [list(x) for x in remove]}}


# Each invariant the web must not break, and the change set that would break it.
BREAKING = {
    "1: a coordinator decides": lines(add=[("p", "coordinator", "*", "approve")]),
    "1: an admin votes for a Nation": lines(add=[("p", "admin", "*", "vote_on_rules")]),
    "2: no quorum": lines(remove=[("p2", "*", "approve", "quorum_met")]),
    "2: refusal made conditional": lines(add=[("p2", "*", "refuse", "screened")]),
    "5: storage anywhere": lines(remove=[("p2", "*", "approve", "storage_in_jurisdiction")]),
    "5: any term": lines(remove=[("p2", "*", "approve", "term_within_limit")]),
    "10: judging one's own request": lines(remove=[("p2", "*", "approve", "not_own_request")]),
    "2: no refusal": lines(remove=[("p", "representative", "*", "refuse")]),
    "6: no revocation": lines(remove=[("p", "representative", "*", "revoke")]),
    "7: a Nation cannot read its record": lines(remove=[("p", "steward", "*", "view_record")]),
    "9: coordinators read every record": lines(add=[("p", "coordinator", "*", "view_record")]),
    "the members lose their say": lines(remove=[("p", "representative", "*", "vote_on_rules")]),
    "a condition on the members' say": lines(
        add=[("p2", "*", "vote_on_rules", "ethics_approval_given")]
    ),
    "a condition on reading the record": lines(add=[("p2", "*", "view_record", "quorum_met")]),
    "representatives see no request": lines(remove=[("p", "representative", "*", "view")]),
    "a Nation's own line": lines(add=[("p2", "red-cedar", "approve", "ethics_approval_given")]),
    "a grant for one Nation": lines(add=[("p", "coordinator", "red-cedar", "screen")]),
    "every researcher reads every notice": lines(add=[("p", "researcher", "*", "view_deliveries")]),
    "the administrator sees every request": lines(add=[("p", "admin", "*", "view")]),
}

EXTRA_NATIONS = [("green-kestrel", "Green Kestrel Nation (fictional)"),
                 ("grey-owl", "Grey Owl Nation (fictional)"),
                 ("silver-salmon", "Silver Salmon Nation (fictional)")]  # fmt: skip


def add_members(app, make_user, count: int) -> list[str]:
    """Make the member Nations ``count`` (the two seeded ones first), each with a
    representative rep.<slug>@example.org; their slugs."""
    slugs = ["red-cedar", "blue-heron", *(slug for slug, _ in EXTRA_NATIONS[: count - 2])]
    with app.app_context(), session_scope() as session:
        for slug, name in EXTRA_NATIONS[: count - 2]:
            registry.create_nation(session, slug, name, "OCAP")
    for slug in slugs:
        make_user(f"rep.{slug}@example.org", ("representative", slug), name=f"Rep of {slug}")
    return slugs


def rep(slug: str) -> str:
    return f"rep.{slug}@example.org"


def as_person(app, email: str, command):
    """govern() as the person with this address: the proposal's id and status."""
    with app.app_context(), session_scope() as session:
        actor = session.exec(select(User).where(User.email == email)).one()
        proposal = govern(session, actor, command)
        return proposal.id, proposal.status.value


def propose(app, email: str, changes: dict, nation: str | None = None) -> int:
    command = Propose("A change (fictional)", "Why", changes, nation)
    return as_person(app, email, command)[0]


def vote(app, proposal_id: int, slug: str, answer: str = "approve", email: str | None = None):
    command = VoteOnProposal(proposal_id, slug, answer, "")
    return as_person(app, email or rep(slug), command)[1]


def counts(app) -> tuple[int, ...]:
    """Proposals, answers, rules versions and events: what a refused step leaves alone."""
    with app.app_context(), session_scope() as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Proposal, ProposalVote, RulesVersion, AuditEvent)
        )
