"""Portal-wide rule changes are the member Nations' (portal/workflow/proposals.py): the
approval rule at its boundaries, who may propose, answer and withdraw, and that a
refused step writes nothing."""

import inspect

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Forbidden, NotFound, Refused, ValidationError
from portal.notify.models import OutboxMessage
from portal.policy.approval import ApprovalRule, Outcome, RuleNotKnown
from portal.policy.models import Proposal, RulesOrigin
from portal.policy.versions import install, latest_version, rules_in_force
from portal.workflow import proposals
from portal.workflow.proposals import WithdrawProposal

from governing import (
    BREAKING,
    ETHICS_FIRST,
    NO_WITHDRAW,
    add_members,
    as_person,
    counts,
    propose,
    rep,
    vote,
)

ADMIN = "admin@example.org"
WITHDRAW_LINE = ("p", "researcher", "*", "withdraw")


@pytest.fixture
def three(app, nations, make_user):
    make_user(ADMIN, "admin")
    return add_members(app, make_user, 3)


def status_of(app, proposal_id: int) -> Proposal:
    with app.app_context(), session_scope() as session:
        proposal = session.get(Proposal, proposal_id)
        session.expunge(proposal)
        return proposal


def in_force(app) -> tuple:
    with app.app_context(), session_scope() as session:
        return rules_in_force(session).lines


# --- the rule, at its boundaries -----------------------------------------------------


@pytest.mark.parametrize(
    "approval, members, needed",
    [
        ("majority", 1, 1), ("majority", 2, 2), ("majority", 3, 2), ("majority", 4, 3),
        ("majority", 5, 3), ("two_thirds", 3, 2), ("two_thirds", 4, 3), ("two_thirds", 5, 4),
        ("two_thirds", 6, 4), ("all", 1, 1), ("all", 4, 4),
    ],
)  # fmt: skip
def test_how_many_approvals_each_rule_needs(approval, members, needed):
    rule = ApprovalRule(approval, objection_stops=True)
    assert rule.needed(members) == needed
    assert rule.outcome(members, needed, 0) is Outcome.APPROVED
    assert rule.outcome(members, needed - 1, 0) is Outcome.WAITING


def test_an_objection_stops_it_only_when_configured_so():
    assert ApprovalRule("majority", True).outcome(3, 2, 1) is Outcome.REJECTED
    assert ApprovalRule("majority", True).outcome(3, 0, 1) is Outcome.REJECTED
    assert ApprovalRule("majority", False).outcome(3, 2, 1) is Outcome.APPROVED
    assert ApprovalRule("majority", False).outcome(3, 1, 1) is Outcome.WAITING
    # Rejected once approval became impossible: 3 of 4 needed, 2 objected.
    assert ApprovalRule("majority", False).outcome(4, 1, 2) is Outcome.REJECTED
    assert ApprovalRule("majority", False).outcome(4, 1, 1) is Outcome.WAITING


def test_silence_is_never_consent():
    for members in range(1, 7):
        for approval in ("majority", "two_thirds", "all"):
            assert ApprovalRule(approval).outcome(members, 0, 0) is Outcome.WAITING


def test_an_unknown_rule_decides_nothing():
    with pytest.raises(RuleNotKnown):
        ApprovalRule("most")


def test_the_rule_in_words():
    assert ApprovalRule("majority", True).words(5) == (
        "3 of 5 member Nations must approve (more than half); one objection rejects the change"
    )
    assert ApprovalRule("all", False).words(2) == "2 of 2 member Nations must approve (every one)"


# --- applied through the votes ---------------------------------------------------------


def test_a_majority_of_three_applies_it_in_the_same_step(app, three):
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    assert vote(app, proposal_id, "red-cedar") == "open", "1 of 3 is no majority"
    assert WITHDRAW_LINE in in_force(app)
    assert vote(app, proposal_id, "blue-heron") == "applied"
    assert WITHDRAW_LINE not in in_force(app)
    with app.app_context(), session_scope() as session:
        version = latest_version(session)
        assert (version.origin, version.proposal_id) == (RulesOrigin.PROPOSAL, proposal_id)
        assert version.actor_id is not None, "the proposer made it"
        number = version.number
    assert status_of(app, proposal_id).applied_version == number
    # Applied: the third Nation answers no more.
    with pytest.raises(Refused, match="applied"):
        vote(app, proposal_id, "green-kestrel")


@pytest.mark.parametrize(
    "approval, approvals, applied",
    [("all", 2, False), ("all", 3, True), ("two_thirds", 1, False), ("two_thirds", 2, True)],
)
def test_all_and_two_thirds_at_their_boundaries(app, three, approval, approvals, applied):
    app.config["GOVERNANCE_APPROVAL"] = approval
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    for slug in three[:approvals]:
        vote(app, proposal_id, slug)
    assert status_of(app, proposal_id).status.value == ("applied" if applied else "open")
    assert (WITHDRAW_LINE not in in_force(app)) is applied


def test_an_objection_rejects_it_and_nothing_changes(app, three):
    before = in_force(app)
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    vote(app, proposal_id, "red-cedar")
    assert vote(app, proposal_id, "blue-heron", "object") == "rejected"
    assert in_force(app) == before
    with pytest.raises(Refused, match="rejected"):
        vote(app, proposal_id, "green-kestrel")
    with app.app_context(), session_scope() as session:
        kinds = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
        assert kinds[-4:] == [
            "proposal.made", "proposal.voted", "proposal.voted", "proposal.rejected",
        ]  # fmt: skip


def test_without_objection_stopping_it_the_majority_still_decides(app, three):
    app.config["GOVERNANCE_OBJECTION_STOPS"] = False
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    assert vote(app, proposal_id, "red-cedar", "object") == "open"
    assert vote(app, proposal_id, "blue-heron") == "open"
    assert vote(app, proposal_id, "green-kestrel") == "applied"


def test_approval_that_became_impossible_rejects_it(app, three):
    app.config["GOVERNANCE_OBJECTION_STOPS"] = False
    app.config["GOVERNANCE_APPROVAL"] = "all"
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    assert vote(app, proposal_id, "red-cedar", "object") == "rejected"


def test_a_change_that_no_longer_fits_is_refused_and_the_answer_not_kept(app, three):
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    vote(app, proposal_id, "red-cedar")
    with app.app_context(), session_scope() as session:  # another change came first
        install(session, NO_WITHDRAW, origin=RulesOrigin.LOAD, summary="operator")
    before = counts(app)
    with pytest.raises(Refused, match="withdraw it and propose the change again"):
        vote(app, proposal_id, "blue-heron")
    assert counts(app) == before
    assert status_of(app, proposal_id).status.value == "open"


# --- who -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email, roles",
    [
        ("c@example.org", ["coordinator"]),
        ("s@example.org", [("steward", "red-cedar")]),
        ("r@example.org", ["researcher"]),
        (ADMIN, None),
    ],
)
def test_only_a_nations_representative_answers_for_it(app, three, make_user, email, roles):
    if roles:
        make_user(email, *roles)
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    before = counts(app)
    with pytest.raises(Forbidden):
        vote(app, proposal_id, "red-cedar", email=email)
    assert counts(app) == before


def test_a_representative_answers_only_for_its_own_nation_and_once(app, three):
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    with pytest.raises(Forbidden):
        vote(app, proposal_id, "blue-heron", email=rep("red-cedar"))
    vote(app, proposal_id, "red-cedar")
    with pytest.raises(Refused, match="answered this proposal already"):
        vote(app, proposal_id, "red-cedar")


def test_a_second_representative_cannot_answer_again_for_the_nation(app, three, make_user):
    make_user("rep2.cedar@example.org", ("representative", "red-cedar"))
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    vote(app, proposal_id, "red-cedar")
    with pytest.raises(Refused, match="each Nation answers once"):
        vote(app, proposal_id, "red-cedar", email="rep2.cedar@example.org")


def test_who_proposes(app, three, make_user):
    make_user("c@example.org", "coordinator")
    make_user("s@example.org", ("steward", "red-cedar"))
    for email in ("c@example.org", "s@example.org"):
        with pytest.raises(Forbidden):
            propose(app, email, NO_WITHDRAW)
    with pytest.raises(Forbidden):  # an administrator never speaks for a Nation
        propose(app, ADMIN, NO_WITHDRAW, nation="red-cedar")
    with pytest.raises(Forbidden):  # a representative speaks for its own Nation only
        propose(app, rep("red-cedar"), NO_WITHDRAW)
    with pytest.raises(Forbidden):
        propose(app, rep("red-cedar"), NO_WITHDRAW, nation="blue-heron")
    proposal_id = propose(app, rep("red-cedar"), NO_WITHDRAW, nation="red-cedar")
    assert status_of(app, proposal_id).nation_id is not None


def test_only_the_proposer_withdraws_and_only_while_open(app, three):
    proposal_id = propose(app, rep("red-cedar"), ETHICS_FIRST, nation="red-cedar")
    for email in (ADMIN, rep("blue-heron")):
        with pytest.raises(Forbidden):
            as_person(app, email, WithdrawProposal(proposal_id))
    assert as_person(app, rep("red-cedar"), WithdrawProposal(proposal_id))[1] == "withdrawn"
    with pytest.raises(Refused, match="withdrawn"):
        as_person(app, rep("red-cedar"), WithdrawProposal(proposal_id))
    with pytest.raises(Refused, match="withdrawn"):
        vote(app, proposal_id, "blue-heron")
    with pytest.raises(NotFound):
        as_person(app, rep("red-cedar"), WithdrawProposal(proposal_id + 100))


def test_rejected_and_withdrawn_stay_listed_with_their_answers(app, three):
    from portal.transparency.proposals import listing, view

    rejected = propose(app, ADMIN, NO_WITHDRAW)
    vote(app, rejected, "red-cedar", "object")
    withdrawn = propose(app, ADMIN, ETHICS_FIRST)
    vote(app, withdrawn, "blue-heron")
    as_person(app, ADMIN, WithdrawProposal(withdrawn))
    open_one = propose(app, ADMIN, ETHICS_FIRST)
    with app.app_context(), session_scope() as session:
        listed = listing(session)
        assert [p.id for p in listed] == [open_one, withdrawn, rejected]
        reader = session.exec(select(proposals.User).where(proposals.User.email == ADMIN)).one()
        answered = {
            p.id: [
                (a.nation.slug, a.vote and a.vote.value) for a in view(session, reader, p).answers
            ]
            for p in listed
        }
    assert answered[rejected][0] == ("red-cedar", "object")
    assert answered[withdrawn][0] == ("blue-heron", "approve")


# --- what may be proposed -------------------------------------------------------------


@pytest.mark.parametrize("case", BREAKING)
def test_a_change_breaking_the_invariants_is_refused_and_nothing_written(app, three, case):
    before = counts(app)
    with pytest.raises(ValidationError) as refused:
        propose(app, ADMIN, BREAKING[case])
    assert counts(app) == before
    assert set(refused.value.errors) == {"lines"}


def test_a_change_that_changes_nothing_or_does_not_fit_is_refused(app, three):
    with pytest.raises(ValidationError, match="changes nothing"):
        propose(app, ADMIN, {})
    with pytest.raises(ValidationError, match="is not in the rules in force"):
        propose(app, ADMIN, {"lines": {"remove": [["p", "coordinator", "*", "approve"]]}})
    with pytest.raises(ValidationError, match="in the rules already"):
        propose(app, ADMIN, {"lines": {"add": [list(WITHDRAW_LINE)]}})
    with pytest.raises(ValidationError, match="nothing else"):
        propose(app, ADMIN, {"rows": []})
    with pytest.raises(ValidationError, match="needs a label"):
        propose(app, ADMIN, {"catalogue": {"no_linkage": {"label": "", "text": ""}}})


def test_no_proposal_without_member_nations(app, make_user):
    make_user(ADMIN, "admin")
    with pytest.raises(Refused, match="No member Nation"):
        propose(app, ADMIN, NO_WITHDRAW)


def test_every_member_nations_representatives_are_told_and_then_the_outcome(app, three):
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    vote(app, proposal_id, "red-cedar")
    vote(app, proposal_id, "blue-heron")
    with app.app_context(), session_scope() as session:
        mail = [(m.recipient, m.subject) for m in session.exec(select(OutboxMessage))]
    made = {r for r, s in mail if s.startswith("A change to the portal-wide rules is proposed")}
    closed = {r for r, s in mail if s.startswith("The proposed change to the portal-wide rules")}
    assert made == {rep(slug) for slug in three}
    assert closed == {rep(slug) for slug in three} | {ADMIN}


def test_every_command_has_a_handler():
    commands = [
        kind
        for _name, kind in inspect.getmembers(proposals, inspect.isclass)
        if kind.__module__ == proposals.__name__
        and kind.__name__[0].isupper()
        and hasattr(kind, "__dataclass_fields__")
    ]
    assert {kind.__name__ for kind in commands} == {"Propose", "VoteOnProposal", "WithdrawProposal"}
    for kind in commands:
        assert kind in proposals.HANDLERS, f"{kind.__name__} has no row in HANDLERS"
    assert set(proposals.HANDLERS) == set(proposals.GovernanceCommand.__args__)


# --- who answers: fixed when it is made ------------------------------------------------


def test_the_nations_that_answer_are_fixed_when_it_is_made(app, three, make_user):
    """A Nation registered (or given its representative) afterwards neither answers nor
    moves the count; a Nation without a representative is no voice to wait for."""
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session:
        registry.create_nation(session, "quiet-lake", "Quiet Lake Nation (fictional)", "OCAP")
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    assert len(status_of(app, proposal_id).electorate) == 3, "quiet-lake has no representative"
    make_user(rep("quiet-lake"), ("representative", "quiet-lake"))
    before = counts(app)
    with pytest.raises(Refused, match="had no representative when this change was proposed"):
        vote(app, proposal_id, "quiet-lake")
    assert counts(app) == before
    assert vote(app, proposal_id, "red-cedar") == "open"
    assert vote(app, proposal_id, "blue-heron") == "applied", "2 of the 3 who answer it"


def test_a_text_changed_since_it_was_proposed_is_not_overwritten(app, three):
    """Two proposals change one clause; the second applied first: the members approved
    the first against a text no longer in force, so it cannot apply."""

    def purpose(text: str) -> dict:
        return {"clauses": {"purpose": {"title": "Purpose.", "text": text}}}

    first = propose(app, ADMIN, purpose("Use only for the approved purpose (first wording)."))
    second = propose(app, ADMIN, purpose("Use only for the approved purpose (second wording)."))
    vote(app, second, "red-cedar")
    assert vote(app, second, "blue-heron") == "applied"
    vote(app, first, "red-cedar")
    before = counts(app)
    with pytest.raises(Refused, match="the clause purpose changed since it was proposed"):
        vote(app, first, "blue-heron")
    assert counts(app) == before
    with app.app_context(), session_scope() as session:
        assert "second wording" in rules_in_force(session).clause("purpose")["text"]


def test_an_administrator_withdraws_the_operators_load(app, three, make_user, runner, tmp_path):
    import shutil

    from portal.paths import resource_dir

    policies = tmp_path / "policies"
    shutil.copytree(resource_dir("policies"), policies)
    roles = policies / "roles.csv"
    roles.write_text(roles.read_text().replace("p, researcher, *, withdraw\n", ""))
    result = runner.invoke(args=["policy", "load", "--policies", str(policies)])
    assert result.stdout == "Proposal #1 awaits the member Nations' approval.\n"
    with pytest.raises(Forbidden):
        as_person(app, rep("red-cedar"), WithdrawProposal(1))
    assert as_person(app, ADMIN, WithdrawProposal(1)) == (1, "withdrawn")


def test_the_output_review_clause_can_be_reworded(app, three):
    clause = {
        "title": "Community review of outputs.",
        "text": "Every output goes to %(nations)s before anyone else sees it.",
        "text_if_none": "Every output is shared with each Nation before it is published.",
    }
    proposal_id = propose(app, ADMIN, {"clauses": {"output_review": clause}})
    vote(app, proposal_id, "red-cedar")
    assert vote(app, proposal_id, "blue-heron") == "applied"
    with app.app_context(), session_scope() as session:
        assert rules_in_force(session).clause("output_review")["text_if_none"].startswith("Every")
