"""Fixtures of the job tests: an active request (signed by its three parties), its
term's last day, the real Redis on a database number of these tests' own, and a real
SMTP server."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email import message_from_bytes
from email.policy import default

import pytest
import test_notify
from aiosmtpd.controller import Controller
from sqlmodel import select

from portal.agreements import service as agreements
from portal.db import session_scope
from portal.requests.models import AccessRequest

from helpers import PASSWORD, emptied_redis, redis_test_url

REDIS_TEST_URL = redis_test_url(14)  # these tests' own database numbers (14, 15)
SIGNERS = (("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron"))


@dataclass(frozen=True)
class Active:
    ref: str
    term_end: date

    def moment(self, days_after_end: int = 0) -> datetime:
        """Noon UTC, ``days_after_end`` days after the term's last day (negative: before)."""
        day = date.fromordinal(self.term_end.toordinal() + days_after_end)
        return datetime.combine(day, time(12), tzinfo=UTC)


def term_end_of(app, ref: str) -> date:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        return agreements.current(session, request).term_end


@pytest.fixture
def active(app, flow) -> Active:
    ref = flow.approved()
    for who, nation in SIGNERS:
        flow.do(who, "sign", ref, nation, password=PASSWORD)
    assert flow.status(ref) == "active"
    return Active(ref, term_end_of(app, ref))


@pytest.fixture
def redis_connection():
    with emptied_redis(REDIS_TEST_URL) as connection:
        yield connection


class Inbox(test_notify.Inbox):
    def to(self, address: str) -> list[str]:
        """The subjects of the messages to ``address`` (a long one is folded: parsed)."""
        return [
            str(message_from_bytes(m.content, policy=default)["Subject"]).strip()
            for m in self.messages
            if address in m.rcpt_tos
        ]


@pytest.fixture
def inbox(app):
    """A real SMTP server the portal's mail goes to."""
    port = test_notify.free_port()
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield received
    controller.stop()
