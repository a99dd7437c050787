"""Each decision, refusal and agreement records the rules version in force when it was
made, across changes to the rules; describe_changes says a change in words."""

from sqlmodel import select

from portal.agreements.models import Agreement
from portal.db import session_scope
from portal.policy.models import RulesOrigin
from portal.policy.versions import install, number_in_force, rules_in_force
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.reviews.models import Decision
from portal.transparency.rulediff import (
    ADDED,
    CHANGED,
    CLAUSE,
    CONDITION,
    LINE,
    REMOVED,
    SET,
    describe_changes,
)
from portal.transparency.rulewords import explain_line

HERON_RULE = ["p2", "blue-heron", "approve", "ethics_approval_given"]
NAMES = {"blue-heron": "Blue Heron Métis (fictional)"}


def nation_rule(flow, who: str, slug: str, line: list[str]) -> int:
    """A Nation sets a rule of its own: the next version's number."""
    with flow.app.app_context(), session_scope() as session:
        version = install(
            session,
            {"lines": {"add": [line]}},
            origin=RulesOrigin.NATION,
            summary="A rule of its own",
            actor=flow.user(session, who),
            nation=get_nation(session, slug),
        )
        return version.number


def catalogue_change(flow, label: str) -> int:
    with flow.app.app_context(), session_scope() as session:
        entry = {"label": label, "text": "The data stays in {nation}'s territory."}
        changes = {"catalogue": {"local_storage": entry}}
        return install(session, changes, origin=RulesOrigin.PROPOSAL, summary=label).number


def decisions(flow, ref: str) -> dict[tuple[str, str], int | None]:
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        rows = session.exec(select(Decision).where(Decision.request_id == request.id)).all()
        slugs = {get_nation(session, s).id: s for s in ("red-cedar", "blue-heron")}
        return {(slugs[d.nation_id], d.outcome.value): d.rules_version for d in rows}


def agreement_version(flow, ref: str) -> int | None:
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        agreement = session.exec(select(Agreement).where(Agreement.request_id == request.id)).one()
        return agreement.rules_version


def in_force(flow) -> int | None:
    with flow.app.app_context(), session_scope() as session:
        return number_in_force(session)


def test_each_decision_records_the_version_in_force_when_it_was_made(flow):
    assert in_force(flow) == 1
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")  # under version 1
    assert nation_rule(flow, "heron_rep", "blue-heron", HERON_RULE) == 2
    flow.do("heron_rep", "decide", ref, "blue-heron")  # under version 2: the agreement too
    assert flow.status(ref) == "awaiting_signatures"
    assert catalogue_change(flow, "Local storage") == 3
    refused = flow.reviewed()
    flow.do("cedar_rep", "decide", refused, "red-cedar", outcome="refuse", reason="No.")
    assert decisions(flow, ref) == {("red-cedar", "approve"): 1, ("blue-heron", "approve"): 2}
    assert agreement_version(flow, ref) == 2
    assert decisions(flow, refused) == {("red-cedar", "refuse"): 3}


def test_a_change_that_changes_nothing_makes_no_version(flow):
    with flow.app.app_context(), session_scope() as session:
        assert install(session, {}, origin=RulesOrigin.PROPOSAL, summary="nothing") is None
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert decisions(flow, ref) == {("red-cedar", "approve"): 1}


def test_a_revocation_after_a_change_keeps_the_approvals_version(flow):
    ref = flow.approved()
    nation_rule(flow, "cedar_rep", "red-cedar", ["p2", "red-cedar", "approve", "screened"])
    flow.do("cedar_rep", "revoke", ref, "red-cedar")
    assert decisions(flow, ref) == {("red-cedar", "approve"): 1, ("blue-heron", "approve"): 1}
    assert agreement_version(flow, ref) == 1


# --- describe_changes ------------------------------------------------------------------


def test_lines_added_and_removed_read_as_sentences():
    removed = ["p", "admin", "*", "invite"]
    rows = describe_changes({"lines": {"add": [HERON_RULE], "remove": [removed]}}, NAMES)
    assert [(r.part, r.change, r.what) for r in rows] == [
        (LINE, REMOVED, "An admin may invite people to the portal."),
        (LINE, ADDED, explain_line(HERON_RULE, NAMES)),
    ]
    assert "Blue Heron Métis (fictional)" in rows[1].what
    assert rows[0].words == "Removed: An admin may invite people to the portal."


def test_conditions_and_clauses_read_from_old_to_new(app):
    with app.app_context(), session_scope() as session:
        before = rules_in_force(session)
    code, old = next(iter(before.catalogue.items()))
    purpose = before.clause("purpose")
    changes = {
        "catalogue": {
            code: {"label": old["label"], "text": "A new text."},
            "fresh": {"label": "Fresh", "text": "Fresh text."},
        },
        "clauses": {"purpose": {"title": "Purpose, again.", "text": "Only this purpose."}},
    }
    rows = describe_changes(changes, NAMES, before=before)
    assert [(r.part, r.change) for r in rows] == [
        (CONDITION, CHANGED),
        (CONDITION, ADDED),
        (CLAUSE, CHANGED),
    ]
    assert (rows[0].what, rows[0].old, rows[0].new) == (old["label"], old["text"], "A new text.")
    assert (rows[1].old, rows[1].new) == (None, "Fresh text.")
    assert rows[2].what == f"{purpose['title']} (now Purpose, again.)"
    assert (rows[2].old, rows[2].new) == (purpose["text"], "Only this purpose.")
    removed = describe_changes({"clauses": {"purpose": None}}, NAMES, before=before)
    assert [(r.change, r.what, r.old) for r in removed] == [
        (REMOVED, purpose["title"], purpose["text"])
    ]
    # Without the rules before, a new text is all there is to say.
    unknown = describe_changes(changes, NAMES)
    assert [r.change for r in unknown] == [SET, SET, SET]
    assert unknown[0].old is None
