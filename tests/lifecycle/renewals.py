"""A third Nation, and the steps that renew or amend an active two-Nation request
(tests/lifecycle/test_renewal*.py)."""

from datetime import date
from typing import NamedTuple

from sqlmodel import select

from portal.agreements import service as agreements
from portal.agreements.models import Agreement
from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.lifecycle.models import Obligation
from portal.notify.models import OutboxMessage
from portal.registry import service as registry
from portal.registry.models import Nation
from portal.requests.models import AccessRequest

OWL = "grey-owl"
OWL_PEOPLE = {
    "owl_steward": ("s.owl@example.org", [("steward", OWL)]),
    "owl_rep": ("rep.owl@example.org", [("representative", OWL)]),
}
SIGNERS = (("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron"))


def add_third_nation(app, make_user) -> None:
    """Grey Owl (fictional), one steward's quorum, and its dataset owl-lands."""
    with app.app_context(), session_scope() as session:
        registry.create_nation(session, OWL, "Grey Owl First Nation (fictional)", "OCAP")
        registry.create_dataset(session, "owl-lands", "Owl lands", "Lands (fictional)", [OWL])
    for email, roles in OWL_PEOPLE.values():
        make_user(email, *roles)


def who(name: str) -> str:
    return OWL_PEOPLE[name][0] if name in OWL_PEOPLE else name


def run(flow, ref: str, *steps) -> None:
    """Each (person, action, nation, body) in turn, as the pages and the API would."""
    for person, action, nation, body in steps:
        flow.do(who(person), action, ref, nation, **body)


def reviewed_afresh(flow, ref: str, *, heron: bool = True, owl: bool = False) -> None:
    """Submitted, screened and reviewed to quorum by every Nation concerned."""
    steps = [
        ("researcher", "submit", None, {}),
        ("coordinator", "screen", None, {}),
        ("cedar_steward1", "review", "red-cedar", {}),
        ("cedar_steward2", "review", "red-cedar", {}),
    ]
    if heron:
        steps.append(("heron_steward", "review", "blue-heron", {}))
    if owl:
        steps.append(("owl_steward", "review", OWL, {}))
    run(flow, ref, *steps)


def request_of(session, ref: str) -> AccessRequest:
    return session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()


def editions(app, ref: str) -> list[Agreement]:
    with app.app_context(), session_scope() as session:
        found = agreements.editions_of(session, request_of(session, ref))
        return [edition.model_copy() for edition in found]


def amendment(app, ref: str) -> tuple[str, str | None, str | None]:
    """The request's status, amendment phase and kind."""
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        phase = request.amendment.value if request.amendment else None
        kind = request.amendment_kind.value if request.amendment_kind else None
        return request.status.value, phase, kind


def events(app, ref: str) -> list[AuditEvent]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = select(AuditEvent).where(AuditEvent.request_id == request.id)
        return [e.model_copy() for e in session.exec(query.order_by(AuditEvent.id))]


def mail_to(app, email: str) -> list[str]:
    """The subjects of the mail to ``email``, oldest first."""
    return [subject for subject, _body in mail_with_bodies(app, email)]


def mail_with_bodies(app, email: str) -> list[tuple[str, str]]:
    with app.app_context(), session_scope() as session:
        query = select(OutboxMessage.subject, OutboxMessage.body).where(
            OutboxMessage.recipient == email
        )
        return [tuple(row) for row in session.exec(query.order_by(OutboxMessage.id))]


class Owed(NamedTuple):
    nation: str
    key: str  # the standard condition's code, or the Nation's own words
    state: str
    superseded_by: int | None
    next_due: date | None
    id: int


def obligation_rows(app, ref: str) -> list[Owed]:
    """Each obligation of the request, as made."""
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = (
            select(Obligation, Nation)
            .join(Nation, Nation.id == Obligation.nation_id)
            .where(Obligation.request_id == request.id)
            .order_by(Obligation.id)
        )
        return [
            Owed(
                n.slug,
                o.source if o.source != "custom" else o.text,
                o.state.value,
                o.superseded_by,
                o.next_due,
                o.id,
            )
            for o, n in session.exec(query)
        ]


def renewed_with(
    owed, ref: str, cedar: list[str], dues: dict | None = None, heron: dict | None = None
) -> None:
    """Renewed unchanged; Red Cedar decides afresh with ``cedar`` (and ``dues``), Blue
    Heron with the conditions and dues of ``heron`` (none if not given)."""
    flow = owed.flow
    flow.do("researcher", "renew", ref)
    reviewed_afresh(flow, ref)
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=cedar, dues=dues or {})
    heron = heron or {}
    flow.do("heron_rep", "decide", ref, "blue-heron", conditions=list(heron), dues={
        condition: due for condition, due in heron.items() if due
    })  # fmt: skip
    for person, nation in SIGNERS:
        flow.do(person, "sign", ref, nation)
