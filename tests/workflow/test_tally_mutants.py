"""How a Nation's stewards' reviews are counted (portal/reviews/service.py: tally and
counted_reviews) and what the representative is told of them (quorum_met,
min_approvals_met and recommendations_unanimous in portal/policy/conditions.py): a
recommendation counts, a declared conflict does not; approvals are counted among the
counted reviews; a steward no longer designated counts for nothing, nor can still;
the quorum is stalled only when fewer than it can still be reached. Each test kills
mutants that the rest of the suite let live: an approval count inverted, a conflict
counted, a bound compared with < for <=, a steward's designation not asked."""

import pytest
from sqlmodel import select

from portal.auth.service import grant_role, revoke_role
from portal.db import session_scope
from portal.errors import Refused
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.reviews.service import counted_reviews, tally
from portal.workflow.nation_rules import set_nation_rules
from portal.workflow.profiles import update_profile

from flows import PEOPLE

CEDAR = "Red Cedar Nation (fictional)"
STEWARDS = ("cedar_steward1", "cedar_steward2", "cedar_steward3")


def review(flow, ref: str, steward: str, said: str) -> None:
    """``steward`` reviews for Red Cedar: "approve", "refuse" or "conflict"."""
    if said == "conflict":
        flow.do(steward, "review", ref, "red-cedar", conflict_of_interest=True)
    else:
        flow.do(steward, "review", ref, "red-cedar", recommendation=said, comment="Read it.")


def cedar_tally(flow, ref: str) -> dict:
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        nation = get_nation(session, "red-cedar")
        seen = tally(session, request, nation)
        return {
            "counted": seen.counted,
            "approvals": seen.approvals,
            "conflicts": seen.conflicts,
            "reachable": seen.reachable,
            "missing": seen.reviews_missing,
            "met": seen.quorum_met,
            "stalled": seen.stalled,
            "listed": len(counted_reviews(session, request, nation)),
            "rule": (seen.quorum, seen.min_approvals),
        }


def cedar_profile(flow, **settings) -> None:
    with flow.app.app_context(), session_scope() as session:
        rep = flow.user(session, "cedar_rep")
        update_profile(session, rep, get_nation(session, "red-cedar"), **settings)


def decide_refused(flow, ref: str) -> list[tuple[str, str]]:
    """The rules (and their words) that refuse Red Cedar's approval."""
    with pytest.raises(Refused) as refused:
        flow.do("cedar_rep", "decide", ref, "red-cedar")
    return [(rule.rule, rule.message) for rule in refused.value.blocked_by]


def tallied(counted, approvals, conflicts, reachable, missing, met, stalled) -> dict:
    return dict(
        counted=counted,
        approvals=approvals,
        conflicts=conflicts,
        reachable=reachable,
        missing=missing,
        met=met,
        stalled=stalled,
        listed=counted,
        rule=(2, 1),  # Red Cedar's quorum and fewest approvals
    )


# Red Cedar: a quorum of 2 among its 3 stewards. What each said, in turn, and the tally.
TALLIES = [
    ([], tallied(0, 0, 0, 3, 2, False, False)),
    (["approve"], tallied(1, 1, 0, 3, 1, False, False)),
    (["refuse"], tallied(1, 0, 0, 3, 1, False, False)),
    (["conflict"], tallied(0, 0, 1, 2, 2, False, False)),  # two can still reach it
    (["conflict", "conflict"], tallied(0, 0, 2, 1, 2, False, True)),
    (["approve", "refuse"], tallied(2, 1, 0, 3, 0, True, False)),
    (["refuse", "refuse", "approve"], tallied(3, 1, 0, 3, 0, True, False)),  # none missing
    (["approve", "conflict", "approve"], tallied(2, 2, 1, 2, 0, True, False)),
]


@pytest.mark.parametrize(
    ("said", "expected"), TALLIES, ids=["+".join(said) or "none" for said, _ in TALLIES]
)
def test_the_tally_counts_recommendations_and_among_them_approvals(flow, said, expected):
    ref = flow.to_review()
    for steward, recommendation in zip(STEWARDS, said, strict=False):
        review(flow, ref, steward, recommendation)
    assert cedar_tally(flow, ref) == expected


def test_a_steward_no_longer_designated_counts_for_nothing_nor_can_still(flow):
    """Steward 1 approved, then its designation ended: its review no longer counts, and
    only the two stewards still designated can reach the quorum."""
    ref = flow.to_review()
    review(flow, ref, "cedar_steward1", "approve")
    with flow.app.app_context(), session_scope() as session:
        revoke_role(session, flow.user(session, "cedar_steward1"), "steward",
                    get_nation(session, "red-cedar"))  # fmt: skip
    assert cedar_tally(flow, ref) == tallied(0, 0, 0, 2, 2, False, False)


def test_a_representative_who_is_also_a_steward_never_makes_their_own_quorum(flow):
    with flow.app.app_context(), session_scope() as session:
        grant_role(session, flow.user(session, "cedar_rep"), "steward",
                   get_nation(session, "red-cedar"))  # fmt: skip
    ref = flow.to_review()
    review(flow, ref, "cedar_rep", "approve")
    assert cedar_tally(flow, ref) == tallied(0, 0, 0, 3, 2, False, False)


def test_a_steward_on_the_requesting_side_can_never_count(flow):
    """Steward 3 is on the request's team (invariant 10): two stewards can still reach
    the quorum; with one of them conflicted, it is stalled."""
    team = [{"name": "Steward Three", "email": PEOPLE["cedar_steward3"][0], "role": "Analyst"}]
    ref = flow.to_review(team=team)
    assert cedar_tally(flow, ref) == tallied(0, 0, 0, 2, 2, False, False)
    review(flow, ref, "cedar_steward1", "conflict")
    assert cedar_tally(flow, ref) == tallied(0, 0, 1, 1, 2, False, True)


def test_the_representative_is_told_how_many_approvals_were_recorded(flow):
    """With 2 approvals needed, one steward approved and two refused: the approval is
    refused saying 1 (not the 2 who did not approve)."""
    cedar_profile(flow, min_approvals=2)
    ref = flow.to_review()
    for steward, said in zip(STEWARDS, ("approve", "refuse", "refuse"), strict=True):
        review(flow, ref, steward, said)
    assert decide_refused(flow, ref) == [
        (
            "min_approvals_met",
            f"{CEDAR} requires 2 steward recommendations to approve this revision; 1 recorded.",
        )
    ]


def test_a_conflict_neither_makes_the_quorum_nor_breaks_unanimity(flow):
    """Red Cedar asks every counted review to recommend approval: a steward who declared
    a conflict counts for neither the quorum nor against unanimity; a refusal does."""
    with flow.app.app_context(), session_scope() as session:
        rep, nation = flow.user(session, "cedar_rep"), get_nation(session, "red-cedar")
        set_nation_rules(session, rep, nation, {"approve": [("recommendations_unanimous", {})]})
    ref = flow.to_review()
    review(flow, ref, "cedar_steward1", "approve")
    review(flow, ref, "cedar_steward2", "conflict")
    assert decide_refused(flow, ref) == [
        ("quorum_met", f"{CEDAR} requires 2 steward reviews of this revision; 1 recorded.")
    ]
    review(flow, ref, "cedar_steward3", "refuse")
    assert decide_refused(flow, ref) == [
        (
            "recommendations_unanimous",
            f"{CEDAR} requires every steward review of this revision to recommend approval; "
            "1 counted steward review recommends otherwise.",
        )
    ]
