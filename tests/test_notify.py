"""Notifications: queued in the outbox with the change, delivered through a real SMTP
server afterwards, and kept when the server is down."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from portal.auth.models import User
from portal.db import get_session, session_scope
from portal.notify.models import OutboxMessage
from portal.notify.service import deliver, queue


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def people(make_user):
    make_user("ada@example.org", name="Ada Lovelace")
    make_user("grace@example.org", name="Grace Hopper")


def queue_hello(app, emails=("ada@example.org", "grace@example.org")):
    with app.test_request_context(), session_scope() as session:
        users = session.exec(select(User).where(User.email.in_(emails))).all()
        return len(queue(session, users, "withdrawn", None, reason="a test"))


def outbox(app) -> list[dict]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [row.model_dump() for row in rows]


def send(app):
    with app.app_context(), session_scope() as session:
        return deliver(session, app.config)


def test_queued_mail_is_delivered_over_smtp(app, people, smtp_server):
    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    assert queue_hello(app) == 2
    assert send(app) == (2, 0)
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == ["ada@example.org", "grace@example.org"]
    body = inbox.messages[0].content.decode()
    assert "Subject: " in body and "withdrew" in body
    assert all(m["sent_at"] is not None for m in outbox(app))
    assert send(app) == (0, 0), "nothing is sent twice"
    assert len(inbox.messages) == 2


def test_mail_waits_while_the_server_is_down(app, people, smtp_server):
    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens there
    queue_hello(app)
    assert send(app) == (0, 2)
    waiting = outbox(app)
    assert all(m["sent_at"] is None and m["attempts"] == 1 and m["last_error"] for m in waiting)
    app.config["SMTP_PORT"] = controller.port  # the server is back
    assert send(app) == (2, 0)
    assert len(inbox.messages) == 2


def test_without_smtp_mail_goes_to_the_instance_folder(app, people, instance_path):
    app.config["SMTP_HOST"] = None
    queue_hello(app, ["ada@example.org"])
    assert send(app) == (1, 0)
    files = list((instance_path / "mail").glob("*.eml"))
    assert len(files) == 1 and "To: ada@example.org" in files[0].read_text()


def test_one_message_per_person(app, people):
    assert queue_hello(app, ["ada@example.org", "ada@example.org"]) == 1


def test_the_cli_retries_and_reports(app, people, runner, smtp_server):
    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    queue_hello(app)
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1 and "2 message(s) could not be delivered" in result.stderr
    app.config["SMTP_PORT"] = controller.port
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "2 sent" in result.output
    assert len(inbox.messages) == 2


def test_mail_is_sent_after_the_request_commits(app, people, smtp_server):
    controller, inbox = smtp_server
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=controller.port,
        MAIL_SEND_AFTER_REQUEST=True,
        WTF_CSRF_ENABLED=False,
    )

    @app.route("/t/notify", methods=["POST"])
    def notify():
        session = get_session()
        queue(session, session.exec(select(User)).all(), "withdrawn", None, reason="a test")
        return "ok"

    assert app.test_client().post("/t/notify").status_code == 200
    deadline = time.monotonic() + 10
    while len(inbox.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) == 2
