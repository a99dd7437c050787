"""POST /requests/{ref}/actions/{action}: the workflow's transitions (CONTRACT.md §2).

Each loads the request locked for the transition (404 if the caller may not know of
it), calls the one state machine (portal/requests/workflow.py), and answers with the
request as it now stands. Role, state and governance refusals come from the workflow.
"""

from sqlmodel import Session

from portal.agreements import service as agreements
from portal.api import bodies, represent, schemas
from portal.auth.models import User
from portal.db import get_session
from portal.errors import NotFound
from portal.registry.models import Nation
from portal.registry.service import get_nation
from portal.requests import service, workflow
from portal.requests.models import AccessRequest


def _locked(session: Session, user: User, ref: str) -> AccessRequest:
    return service.get_visible(session, user, ref, for_update=True)


def _nation(session: Session, slug: str) -> Nation | None:
    """The Nation named in the body; None for an unknown slug, which the workflow
    refuses as bad input (422 on ``nation``) like a Nation the request does not touch."""
    try:
        return get_nation(session, slug)
    except NotFound:
        return None


def submit(user: User, ref: str, body: bodies.SubmitIn) -> schemas.RequestOut:
    session = get_session()
    req = _locked(session, user, ref)
    workflow.submit(session, user, req)
    return represent.request(session, user, req)


def withdraw(user: User, ref: str, body: bodies.WithdrawIn) -> schemas.RequestOut:
    session = get_session()
    req = _locked(session, user, ref)
    workflow.withdraw(session, user, req, body.reason)
    return represent.request(session, user, req)


def screen(user: User, ref: str, body: bodies.ScreenIn) -> schemas.RequestOut:
    session = get_session()
    req = _locked(session, user, ref)
    workflow.screen(session, user, req, body.outcome, body.comment, body.reason)
    return represent.request(session, user, req)


def review(user: User, ref: str, body: bodies.ReviewIn) -> schemas.RequestOut:
    session = get_session()
    req = _locked(session, user, ref)
    workflow.review(
        session,
        user,
        req,
        _nation(session, body.nation),
        recommendation=body.recommendation,
        comment=body.comment,
        criteria=body.criteria,
        conflict_of_interest=body.conflict_of_interest,
    )
    return represent.request(session, user, req)


def decide(user: User, ref: str, body: bodies.DecideIn) -> schemas.RequestOut:
    session = get_session()
    req = _locked(session, user, ref)
    workflow.decide(
        session,
        user,
        req,
        _nation(session, body.nation),
        outcome=body.outcome,
        reason=body.reason,
        conditions=body.conditions,
    )
    return represent.request(session, user, req)


def sign(user: User, ref: str, body: bodies.SignIn) -> schemas.RequestOut:
    session = get_session()
    req = _locked(session, user, ref)
    workflow.sign(session, user, req, body.password)
    return represent.request(session, user, req)


def revoke(user: User, ref: str, body: bodies.RevokeIn) -> schemas.RequestOut:
    session = get_session()
    req = _locked(session, user, ref)
    workflow.revoke(session, user, req, _nation(session, body.nation), body.reason)
    return represent.request(session, user, req)


def agreement_pdf(user: User, ref: str) -> tuple[bytes, dict[str, str]]:
    """The current agreement as a PDF (each download is an audit event)."""
    session = get_session()
    req = service.get_visible(session, user, ref)
    filename, data = agreements.download(session, user, req)
    return data, {"Content-Disposition": f'inline; filename="{filename}"'}
