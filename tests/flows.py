"""Driving the workflow as the pages and the API do: build a command, perform() it in
a transaction of its own, the person looked up by e-mail."""

from typing import Any

from sqlmodel import select

from portal.auth.models import User
from portal.db import session_scope
from portal.requests.models import AccessRequest
from portal.workflow import Command, Edit, create_draft, perform
from portal.workflow import commands as c

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

# The tests' usual body of each action, where the test does not say.
DEFAULTS: dict[str, dict[str, Any]] = {
    "withdraw": {"reason": "no longer needed"},
    "screen": {"outcome": "accept"},
    "review": {"recommendation": "approve"},
    "decide": {"outcome": "approve"},
    "sign": {"password": PASSWORD},
    "revoke": {"reason": "breach"},
    "message": {"body": "A question about the request."},
    "attest_destruction": {
        "what": "Every extract and derived table",
        "method": "Secure erase of the project drive",
        "done_on": "2026-01-15",
        "done_by": "Robin Researcher (fictional)",
        "password": PASSWORD,
    },
    "acknowledge_destruction": {"outcome": "acknowledged"},
    "review_output": {"recommendation": "approve"},
    "decide_output": {"outcome": "approve"},
    "renew": {"reason": "Another year to finish the analysis."},
    "amend": {"reason": "A new analyst joins the team."},
}
KINDS = {
    kind.name: kind
    for kind in (
        *(c.Submit, c.Withdraw, c.Screen, c.Review, c.Decide, c.Sign, c.Revoke, c.Message),
        *(c.Close, c.AttestDestruction, c.AcknowledgeDestruction),
        *(c.SubmitOutput, c.ReviewOutput, c.DecideOutput),
        *(c.Renew, c.Amend),
    )
}


def command(action: str, nation: str | None = None, **body: Any) -> Command:
    """The command the pages or the API would build for ``action`` with ``body``."""
    fields = {**DEFAULTS.get(action, {}), **body}
    if nation is not None:
        fields["nation"] = nation
    if "conditions" in fields:
        fields["conditions"] = tuple(fields["conditions"])
    return KINDS[action](**fields)


class Flow:
    def __init__(self, app):
        self.app = app

    def user(self, session, who: str) -> User:
        email = PEOPLE[who][0] if who in PEOPLE else who
        return session.exec(select(User).where(User.email == email)).one()

    def draft(self, who: str = "researcher", **fields: Any) -> str:
        with self.app.app_context(), session_scope() as session:
            return create_draft(session, self.user(session, who), {**COMPLETE, **fields}).ref

    def edit(self, who: str, ref: str, **fields: Any) -> None:
        self.perform(who, ref, Edit(fields=fields))

    def perform(self, who: str, ref: str, command: Command) -> str:
        """Perform ``command`` as ``who`` in a transaction of its own; the status after."""
        with self.app.app_context(), session_scope() as session:
            return perform(session, self.user(session, who), ref, command).status.value

    def do(self, who: str, action: str, ref: str, nation: str | None = None, **body: Any):
        """Perform ``action`` as ``who`` with the tests' usual defaults; the status after."""
        return self.perform(who, ref, command(action, nation, **body))

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

    def active(self, cedar_conditions=(), heron_conditions=(), **fields: Any) -> str:
        """Approved by both Nations and signed by every party: access has begun."""
        ref = self.approved(cedar_conditions, heron_conditions, **fields)
        for who in ("researcher", "cedar_rep", "heron_rep"):
            self.do(who, "sign", ref)
        return ref

    def reviewed(self, **fields: Any) -> str:
        """Both Nations' quorums met with approving reviews."""
        ref = self.to_review(**fields)
        self.do("cedar_steward1", "review", ref, "red-cedar")
        self.do("cedar_steward2", "review", ref, "red-cedar")
        self.do("heron_steward", "review", ref, "blue-heron")
        return ref

    def ended(self) -> str:
        """Active, then closed early by the researcher: an attestation is due."""
        ref = self.active()
        self.do("researcher", "close", ref)
        return ref

    def attested(self) -> str:
        """Closed early and attested: each Nation's answer is due."""
        ref = self.ended()
        self.do("researcher", "attest_destruction", ref)
        return ref


def seed_people(app) -> None:
    """Every person of PEOPLE, with their roles (the Nations seeded first)."""
    from portal.auth import service as auth
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session:
        for email, roles in PEOPLE.values():
            user = auth.create_user(session, email, email.split("@")[0], PASSWORD)
            for role in roles:
                role, slug = role if isinstance(role, tuple) else (role, None)
                nation = registry.get_nation(session, slug) if slug else None
                auth.grant_role(session, user, role, nation)
