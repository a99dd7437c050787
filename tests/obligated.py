"""Active requests with obligations to owe, for the tests of portal/lifecycle: the two
Nations of tests/flows.py approve with conditions and every party signs. A third
Nation (green-kestrel) and its steward see none of it."""

from datetime import date, timedelta
from typing import Any

from sqlmodel import select

from portal.db import session_scope
from portal.lifecycle.models import Obligation
from portal.registry import service as registry
from portal.requests.models import AccessRequest
from portal.workflow import commands as c

from flows import Flow

KESTREL_STEWARD = "s.kestrel@example.org"
YEARLY = "Report to the council every year (fictional)."
SUMMARY = "Share a plain-language summary with the community."
CEDAR = ["community_output_review", "return_or_destroy", YEARLY]
HERON = ["aggregate_only", SUMMARY]


class Obligated:
    def __init__(self, app, flow: Flow, make_user) -> None:
        self.app, self.flow = app, flow
        with app.app_context(), session_scope() as session:
            registry.create_nation(session, "green-kestrel", "Green Kestrel (fictional)", "OCAP")
        make_user(KESTREL_STEWARD, ("steward", "green-kestrel"))

    def active(
        self, cedar=CEDAR, heron=HERON, cedar_dues=None, heron_dues=None, **fields: Any
    ) -> str:
        flow = self.flow
        ref = flow.reviewed(**fields)
        dues = {YEARLY: "every 12 months"} if cedar_dues is None else cedar_dues
        flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=list(cedar), dues=dues)
        flow.do(
            "heron_rep", "decide", ref, "blue-heron", conditions=list(heron), dues=heron_dues or {}
        )
        for who in ("researcher", "cedar_rep", "heron_rep"):
            flow.do(who, "sign", ref)
        return ref

    def obligations(self, ref: str) -> dict[str, Obligation]:
        """The request's obligations by their text's first words (or code)."""
        with self.app.app_context(), session_scope() as session:
            request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
            rows = session.exec(select(Obligation).where(Obligation.request_id == request.id)).all()
            for row in rows:
                session.expunge(row)
            return {row.source if row.source != "custom" else row.text: row for row in rows}

    def id(self, ref: str, key: str) -> int:
        return self.obligations(ref)[key].id

    def report(self, who: str, ref: str, key: str, text: str = "Done as asked.") -> str:
        return self.flow.perform(who, ref, c.ReportObligation(self.id(ref, key), text))

    def assess(self, who: str, ref: str, key: str, outcome: str = "met", **more: Any) -> str:
        command = c.AssessObligation(self.id(ref, key), outcome, **more)
        return self.flow.perform(who, ref, command)

    def due_soon(self, ref: str, key: str) -> None:
        """Bring an obligation's due within its report's window: a periodic report is
        taken only from 30 days before it falls due (lifecycle.REPORT_AHEAD)."""
        self.set_due(ref, key, date.today() + timedelta(days=10))

    def set_due(self, ref: str, key: str, day: date) -> None:
        """Move an obligation's next due date (to make it overdue without waiting)."""
        with self.app.app_context(), session_scope() as session:
            row = session.get(Obligation, self.id(ref, key))
            row.next_due = day
            session.add(row)
