"""Notices that an agreement's term is ending: to the researcher and to each approving
Nation's people who may end it (``who_may`` revoke, as available() says), 60, 30 and 7
days before the last day. Each is recorded (``expiry_notice``) so a later run never sends
it again; a run that comes late sends the nearest notice only. A notice changes nothing:
the term ends by the expiry job's Expire command (invariant 3)."""

from datetime import date, timedelta

from sqlmodel import Session, select

from portal.agreements import parties
from portal.agreements.models import Agreement, AgreementStatus
from portal.auth.models import User
from portal.notify.models import ExpiryNotice
from portal.notify.service import queue
from portal.requests.models import AccessRequest, RequestStatus
from portal.workflow.offers import who_may

NOTICE_DAYS = (60, 30, 7)


def _recipients(session: Session, request: AccessRequest, nations: list) -> list[User]:
    people = [session.get(User, request.researcher_id)]
    for nation in nations:
        people += who_may(session, request, "revoke", nation)
    return people


def send_expiry_notices(session: Session, today: date) -> int:
    """Queue the notices due today; how many requests were told."""
    ending = session.exec(
        select(AccessRequest, Agreement)
        .join(Agreement, Agreement.request_id == AccessRequest.id)
        .where(
            AccessRequest.status == RequestStatus.ACTIVE,
            Agreement.status == AgreementStatus.ACTIVE,  # the edition in force
            Agreement.term_end > today,
            Agreement.term_end <= today + timedelta(days=max(NOTICE_DAYS)),
        )
        .order_by(AccessRequest.id)
    ).all()
    told = 0
    for request, agreement in ending:
        days_left = (agreement.term_end - today).days
        sent = set(
            session.exec(
                select(ExpiryNotice.days_before).where(ExpiryNotice.request_id == request.id)
            )
        )
        due = [days for days in NOTICE_DAYS if days_left <= days and days not in sent]
        if not due:
            continue
        for days in due:  # the ones a late run passed are recorded too: never sent after
            session.add(ExpiryNotice(request_id=request.id, days_before=days))
        nations = parties.approving_nations(session, request)
        people = _recipients(session, request, nations)
        queue(session, people, "term_ending", request, days=days_left,
              term_end=agreement.term_end, nations=nations)  # fmt: skip
        told += 1
    session.flush()
    return told
