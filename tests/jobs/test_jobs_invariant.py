"""Invariant 3, for the jobs: silence is never consent. Every registered job (the
registry is read here, so a job added later is covered too) runs over requests in every
state, with the clock past the active request's term and every reminder due; no decision,
review, track, agreement or request changes, but for Expire ending the active request
whose term is over."""

from sqlmodel import select

from portal.agreements.models import Agreement
from portal.db import session_scope
from portal.jobs.registry import JOBS
from portal.jobs.runner import run_job
from portal.lifecycle.models import Obligation
from portal.notify.models import Reminder
from portal.requests.models import AccessRequest
from portal.reviews.models import Decision, NationTrack, Review


def snapshot(app) -> dict[str, tuple]:
    """Everything the jobs must leave alone, by table and row."""
    with app.app_context(), session_scope() as session:
        rows: dict[str, tuple] = {}
        for model in (AccessRequest, NationTrack, Decision, Review, Agreement, Obligation):
            for row in session.exec(select(model)):  # every column, timestamps too
                rows[f"{model.__name__} {row.id}"] = tuple(sorted(row.model_dump().items()))
        return rows


def changes_by_job(app, later) -> dict[str, set[str]]:
    """Run every registered job once at ``later`` (every reminder due); the rows each
    changed."""
    changed_by: dict[str, set[str]] = {}
    for name in JOBS:
        before = snapshot(app)
        run_job(app, name, later)
        after = snapshot(app)
        keys = before.keys() | after.keys()
        changed_by[name] = {key for key in keys if before.get(key) != after.get(key)}
    return changed_by


def every_state(flow) -> dict[str, str]:
    """A request in each state a job could meet (the active one comes from ``active``)."""
    refs = {"draft": flow.draft()}
    refs["screening"] = flow.draft()
    flow.do("researcher", "submit", refs["screening"])
    refs["returned"] = flow.draft()
    flow.do("researcher", "submit", refs["returned"])
    flow.do("coordinator", "screen", refs["returned"], outcome="return", reason="clarification",
            comment="Say more about the cohort.")  # fmt: skip
    refs["in_review"] = flow.to_review()
    refs["to_decide"] = flow.reviewed()
    refs["refused"] = flow.to_review()
    flow.do("heron_rep", "decide", refs["refused"], "blue-heron", outcome="refuse", reason="no")
    refs["withdrawn"] = flow.to_review()
    flow.do("researcher", "withdraw", refs["withdrawn"])
    refs["to_sign"] = flow.approved()
    flow.do("researcher", "sign", refs["to_sign"])
    refs["revoked"] = flow.approved()
    flow.do("cedar_rep", "revoke", refs["revoked"], "red-cedar")
    # Access began with obligations, then ended: each is due now, overdue at the jobs' time.
    refs["owing"] = flow.active(cedar_conditions=["Report to the council (fictional)."])
    flow.do("cedar_rep", "revoke", refs["owing"], "red-cedar")
    return refs


def test_no_job_moves_a_request_forward_only_expire_ends_a_finished_term(app, flow, active):
    refs = every_state(flow)
    expected_status = {
        "draft": "draft", "screening": "screening", "returned": "changes_requested",
        "in_review": "under_review", "to_decide": "under_review", "refused": "refused",
        "withdrawn": "withdrawn", "to_sign": "awaiting_signatures", "revoked": "revoked",
        "owing": "revoked",
    }  # fmt: skip
    assert {name: flow.status(ref) for name, ref in refs.items()} == expected_status
    changed_by = changes_by_job(app, active.moment(days_after_end=400))  # all terms over
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == active.ref)).one()
        agreement = session.exec(select(Agreement).where(Agreement.request_id == request.id)).one()
        expired = {f"AccessRequest {request.id}", f"Agreement {agreement.id}"}
    assert changed_by == {name: expired if name == "expire_agreements" else set() for name in JOBS}
    assert flow.status(active.ref) == "expired"
    assert {name: flow.status(ref) for name, ref in refs.items()} == expected_status
    with app.app_context(), session_scope() as session:  # the jobs met what they could send
        steps = set(session.exec(select(Reminder.step)))
    assert {"report_obligation", "attest_destruction", "screen"} <= steps


def test_the_check_catches_a_job_that_would_approve(app, flow, monkeypatch):
    from datetime import timedelta

    from portal.db import utcnow
    from portal.jobs.registry import Job
    from portal.workflow import Decide, perform

    ref = flow.reviewed()

    def approve_on_silence(session, now) -> str:
        cedar_rep = flow.user(session, "cedar_rep")
        return perform(session, cedar_rep, ref, Decide(nation="red-cedar", outcome="approve")).ref

    monkeypatch.setitem(JOBS, "rogue", Job("rogue", approve_on_silence, timedelta(days=1), ""))
    assert changes_by_job(app, utcnow())["rogue"], "a job that decides is caught"
