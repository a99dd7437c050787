"""Driving the workflow through the service layer, as the pages and the API do:
one transaction per action, the request locked, the person looked up by e-mail."""

from typing import Any

from sqlmodel import select

from portal.auth.models import User
from portal.db import session_scope
from portal.registry.service import get_nation
from portal.requests import service, workflow
from portal.requests.models import AccessRequest

from helpers import PASSWORD

COMPLETE = {
    "title": "Wellbeing of children in care (fictional)",
    "purpose": "Describe how children in care are supported.",
    "datasets": ["cedar-health", "heron-schools"],
    "methods": "Descriptive statistics; public tables lack the detail needed.",
    "community_benefit": "Evidence for the Nations' own advocacy.",
    "harm_assessment": "Small cells suppressed; strengths-based framing reviewed by community.",
    "ethics_approval": "University REB #2026-123 (fictional)",
    "storage_location": "CA-ON",
    "retention_days": 365,
    "team": [{"name": "Robin Researcher", "email": "robin@example.org", "role": "PI"}],
}

PEOPLE = {
    "researcher": ("researcher@example.org", ["researcher"]),
    "other_researcher": ("other@example.org", ["researcher"]),
    "coordinator": ("coordinator@example.org", ["coordinator"]),
    "admin": ("admin@example.org", ["admin"]),
    "cedar_steward1": ("s1.cedar@example.org", [("steward", "red-cedar")]),
    "cedar_steward2": ("s2.cedar@example.org", [("steward", "red-cedar")]),
    "cedar_steward3": ("s3.cedar@example.org", [("steward", "red-cedar")]),
    "cedar_rep": ("rep.cedar@example.org", [("representative", "red-cedar")]),
    "heron_steward": ("s.heron@example.org", [("steward", "blue-heron")]),
    "heron_rep": ("rep.heron@example.org", [("representative", "blue-heron")]),
}

NATION_ACTIONS = {"review", "decide", "revoke"}


class Flow:
    def __init__(self, app):
        self.app = app

    def user(self, session, who: str) -> User:
        email = PEOPLE[who][0] if who in PEOPLE else who
        return session.exec(select(User).where(User.email == email)).one()

    def draft(self, who: str = "researcher", **fields: Any) -> str:
        with self.app.app_context(), session_scope() as session:
            request = service.create_draft(session, self.user(session, who), {**COMPLETE, **fields})
            return request.ref

    def edit(self, who: str, ref: str, **fields: Any) -> None:
        with self.app.app_context(), session_scope() as session:
            user = self.user(session, who)
            service.update_draft(session, user, service.get_visible(session, user, ref), fields)

    def do(self, who: str, action: str, ref: str, nation: str | None = None, **body: Any):
        """Perform ``action`` as ``who``; returns the request's status afterwards."""
        with self.app.app_context(), session_scope() as session:
            user = self.user(session, who)
            request = service.get_visible(session, user, ref, for_update=True)
            target = get_nation(session, nation) if nation else None
            if action == "submit":
                workflow.submit(session, user, request)
            elif action == "withdraw":
                workflow.withdraw(session, user, request, body.get("reason", "no longer needed"))
            elif action == "screen":
                workflow.screen(
                    session,
                    user,
                    request,
                    body.get("outcome", "accept"),
                    body.get("comment", ""),
                    body.get("reason"),
                )
            elif action == "review":
                workflow.review(
                    session,
                    user,
                    request,
                    target,
                    recommendation=body.get("recommendation", "approve"),
                    comment=body.get("comment", ""),
                    conflict_of_interest=body.get("conflict_of_interest", False),
                )
            elif action == "decide":
                workflow.decide(
                    session,
                    user,
                    request,
                    target,
                    outcome=body.get("outcome", "approve"),
                    reason=body.get("reason", ""),
                    conditions=body.get("conditions", []),
                )
            elif action == "sign":
                workflow.sign(session, user, request, body.get("password", PASSWORD), target)
            elif action == "revoke":
                workflow.revoke(session, user, request, target, body.get("reason", "breach"))
            else:
                raise ValueError(action)
            return request.status.value

    def status(self, ref: str) -> str:
        with self.app.app_context(), session_scope() as session:
            request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
            return request.status.value

    def to_review(self, **fields: Any) -> str:
        """A two-Nation request, submitted and accepted for review."""
        ref = self.draft(**fields)
        self.do("researcher", "submit", ref)
        self.do("coordinator", "screen", ref)
        return ref

    def approved(self, cedar_conditions=(), heron_conditions=(), **fields: Any) -> str:
        """Both Nations approved: the agreement waits for its three signatures."""
        ref = self.reviewed(**fields)
        self.do("cedar_rep", "decide", ref, "red-cedar", conditions=list(cedar_conditions))
        self.do("heron_rep", "decide", ref, "blue-heron", conditions=list(heron_conditions))
        return ref

    def reviewed(self, **fields: Any) -> str:
        """Both Nations' quorums met with approving reviews."""
        ref = self.to_review(**fields)
        self.do("cedar_steward1", "review", ref, "red-cedar")
        self.do("cedar_steward2", "review", ref, "red-cedar")
        self.do("heron_steward", "review", ref, "blue-heron")
        return ref
