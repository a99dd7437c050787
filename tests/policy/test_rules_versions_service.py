"""The versions of the governance rules (portal/policy/versions.py): a change set applies
to the rules in force or not at all, the invariants are checked on every change, each
change is the next version, kept whole, and two changes at once never lose one another."""

import pytest
import sqlalchemy as sa
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.policy.models import PolicyRule, RulesOrigin, RulesVersion
from portal.policy.store import read_version
from portal.policy.sync import load_files
from portal.policy.versions import (
    Rules,
    RulesInvalid,
    apply_changes,
    changes_between,
    install,
    rules_in_force,
    rules_of,
)
from portal.registry.service import get_nation

from helpers import race

ETHICS_ON_REVIEW = ["p2", "*", "review", "ethics_approval_given"]
QUORUM = ["p2", "*", "approve", "quorum_met"]


def rows(session) -> list[tuple[str, ...]]:
    return [(r.ptype, *r.values) for r in session.exec(select(PolicyRule).order_by(PolicyRule.id))]


def test_the_tests_start_from_version_one_holding_the_rows_in_force(app):
    with app.app_context(), session_scope() as session:
        rules = rules_in_force(session)
        assert rules.number == 1
        assert list(rules.lines) == rows(session)
        assert "community_output_review" in rules.catalogue
        assert [c["code"] for c in rules.clauses][:2] == ["purpose", "no_reidentification"]


def test_a_change_is_the_next_version_its_rows_and_an_event(app):
    with app.app_context(), session_scope() as session:
        before = read_version(session)
        version = install(
            session,
            {"lines": {"add": [ETHICS_ON_REVIEW]}},
            origin=RulesOrigin.PROPOSAL,
            summary="stewards review only with ethics approval named",
        )
        assert version.number == 2
        assert tuple(ETHICS_ON_REVIEW) in rows(session)
        assert read_version(session) == before + 1, "every worker reloads"
        event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.details["version"]) == ("rules.changed", 2)
    with app.app_context(), session_scope() as session:
        assert rules_of(session, 1).lines != rules_of(session, 2).lines
        assert tuple(ETHICS_ON_REVIEW) not in rules_of(session, 1).lines, "kept whole, unchanged"


def test_no_change_writes_nothing(app):
    with app.app_context(), session_scope() as session:
        before = read_version(session)
        assert install(session, {}, origin=RulesOrigin.PROPOSAL, summary="nothing") is None
        assert read_version(session) == before
        assert session.exec(select(RulesVersion)).all()[-1].number == 1


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"lines": {"remove": [QUORUM]}}, "approve must need quorum_met"),
        ({"lines": {"add": [["p", "coordinator", "*", "approve"]]}}, "only a representative"),
        ({"lines": {"add": [["p2", "*", "refuse", "quorum_met"]]}}, "invariant 2"),
        ({"lines": {"remove": [["p2", "*", "approve", "not_own_request"]]}}, "not_own_request"),
        ({"lines": {"add": [["p2", "*", "review", "no_such_rule"]]}}, "unknown condition"),
        ({"lines": {"add": [["p2", "nowhere", "review", "screened"]]}}, "unknown Nation"),
        ({"catalogue": {"no_linkage": {"label": "", "text": ""}}}, "needs a label"),
    ],
)
def test_a_change_that_breaks_the_rules_is_refused_and_writes_nothing(app, changes, problem):
    with app.app_context(), session_scope() as session:
        before = (rows(session), read_version(session))
        with pytest.raises(RulesInvalid, match=problem):
            install(session, changes, origin=RulesOrigin.PROPOSAL, summary="x")
        session.rollback()
        assert (rows(session), read_version(session)) == before
        assert rules_in_force(session).number == 1


def test_a_change_set_that_does_not_fit_the_rules_in_force_is_refused():
    rules = Rules(1, (("p", "steward", "*", "review"),))
    with pytest.raises(RulesInvalid, match="is not in the rules in force"):
        apply_changes(rules, {"lines": {"remove": [["p", "steward", "*", "view"]]}})
    with pytest.raises(RulesInvalid, match="is in the rules already"):
        apply_changes(rules, {"lines": {"add": [["p", "steward", "*", "review"]]}})


def test_changes_between_and_apply_changes_are_inverse():
    old = Rules(1, (("p", "steward", "*", "review"), ("p", "steward", "*", "view")))
    catalogue = {**old.catalogue, "new_code": {"label": "New", "text": "New text."}}
    del catalogue["no_linkage"]
    clauses = [{**c, "text": "Changed."} if c["code"] == "purpose" else c for c in old.clauses]
    new = Rules(
        1, (("p", "steward", "*", "view"), ("p", "steward", "*", "sign")), catalogue, clauses
    )
    changes = changes_between(old, new)
    assert changes["lines"] == {
        "add": [["p", "steward", "*", "sign"]],
        "remove": [["p", "steward", "*", "review"]],
    }
    assert changes["catalogue"] == {"new_code": catalogue["new_code"], "no_linkage": None}
    assert list(changes["clauses"]) == ["purpose"]
    applied = apply_changes(old, changes)
    assert set(applied.lines) == set(new.lines)
    assert (applied.catalogue, applied.clauses) == (new.catalogue, new.clauses)
    assert changes_between(new, new) == {}


def test_two_changes_at_once_are_both_kept_one_version_each(app):
    def change(line):
        def run():
            with app.app_context(), session_scope() as session:
                return install(
                    session, {"lines": {"add": [line]}}, origin=RulesOrigin.PROPOSAL, summary="x"
                ).number

        return run

    results = race(
        change(ETHICS_ON_REVIEW), change(["p2", "*", "approve", "ethics_approval_given"])
    )
    assert sorted(results) == [2, 3], results
    with app.app_context(), session_scope() as session:
        lines = rules_in_force(session).lines
        assert tuple(ETHICS_ON_REVIEW) in lines
        assert ("p2", "*", "approve", "ethics_approval_given") in lines


def test_a_load_keeps_each_nations_own_rules(app, nations):
    own = ["p2", "red-cedar", "review", "ethics_approval_given"]
    with app.app_context(), session_scope() as session:
        install(
            session,
            {"lines": {"add": [own]}},
            origin=RulesOrigin.NATION,
            nation=get_nation(session, "red-cedar"),
            summary="Red Cedar reviews only with ethics approval named",
        )
    with app.app_context(), session_scope() as session:
        load_files(session)
        assert tuple(own) in rules_in_force(session).lines
        assert tuple(own) in rows(session)


def test_rules_already_broken_refuse_only_a_new_breach(app):
    """Rows put in some other way (not through install) may break a rule; a change then
    is refused only for what it breaks itself, so a mend is always possible."""
    breach = ("p", "coordinator", "*", "approve")
    with app.app_context(), session_scope() as session:
        session.add(PolicyRule(ptype="p", v0="coordinator", v1="*", v2="approve"))
        session.flush()
        session.exec(sa.delete(RulesVersion))  # rules in force: the rows as they are
    with app.app_context(), session_scope() as session:
        assert breach in rules_in_force(session).lines
        with pytest.raises(RulesInvalid, match="only a representative may refuse"):
            install(
                session,
                {"lines": {"add": [["p", "coordinator", "*", "refuse"]]}},
                origin=RulesOrigin.PROPOSAL,
                summary="a second breach",
            )
    with app.app_context(), session_scope() as session:
        mended = install(
            session,
            {"lines": {"remove": [list(breach)]}},
            origin=RulesOrigin.PROPOSAL,
            summary="the breach mended",
        )
        assert breach not in rules_in_force(session).lines
        assert mended.number == 1
