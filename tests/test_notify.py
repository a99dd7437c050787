"""Notifications: queued in the outbox with the change, delivered through a real SMTP
server afterwards, kept when the server is down, each message on its own."""

import re
import socket
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from portal.auth.models import User
from portal.db import get_session, session_scope
from portal.notify import service
from portal.notify.models import OutboxMessage
from portal.notify.service import COMPILED_MAIL, deliver, queue
from portal.requests.models import AccessRequest

from helpers import sqlite_pass_only


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


def test_a_message_that_fails_every_attempt_is_kept_as_failed_and_sent_on_retry(
    app, people, smtp_server, runner
):
    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens there
    queue_hello(app, ["ada@example.org"])
    for _ in range(service.MAX_ATTEMPTS):
        assert send(app) == (0, 1)
    [message] = outbox(app)
    assert message["attempts"] == service.MAX_ATTEMPTS and message["failed_at"] is not None
    app.config["SMTP_PORT"] = controller.port  # the server is back: a failed message waits
    assert send(app) == (0, 0), "a failed message is not tried again on its own"
    listed = runner.invoke(args=["jobs", "list", "--failed"])
    assert listed.exit_code == 0 and f"mail {message['id']}" in listed.output
    assert "ada@example.org" in listed.output
    result = runner.invoke(args=["mail", "retry", str(message["id"])])
    assert result.exit_code == 0, result.output
    assert send(app) == (1, 0) and len(inbox.messages) == 1
    [message] = outbox(app)
    assert message["sent_at"] is not None and message["failed_at"] is None
    result = runner.invoke(args=["mail", "retry", str(message["id"])])
    assert result.exit_code == 1 and "no failed message" in result.stderr


def test_without_smtp_mail_goes_to_the_instance_folder(app, people, instance_path):
    app.config["SMTP_HOST"] = None
    queue_hello(app, ["ada@example.org"])
    assert send(app) == (1, 0)
    files = list((instance_path / "mail").glob("*.eml"))
    assert len(files) == 1 and "To: ada@example.org" in files[0].read_text()
    assert files[0].stat().st_mode & 0o777 == 0o600, "mail names people: the portal's alone"


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


# A line break where a header is made (a request's title, say) stops nothing, and one
# message that fails never holds up or undoes the others (findings of the security probe).

BREAKS = ["\r", "\n", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]


def put_in_outbox(app, *subjects: str) -> None:
    """Rows as a portal before this fix may have queued them: headers unchecked."""
    with app.app_context(), session_scope() as session:
        for number, subject in enumerate(subjects):
            email = ["ada@example.org", "grace@example.org"][number % 2]
            session.add(OutboxMessage(recipient=email, subject=subject, body="Hello.\n"))


def subjects_received(inbox) -> list[str]:
    lines = [m.content.decode().splitlines() for m in inbox.messages]
    return [next(ln for ln in msg if ln.startswith("Subject: "))[9:] for msg in lines]


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_a_waiting_subject_stops_nothing(app, people, smtp_server, brk):
    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    put_in_outbox(app, "first", f"New request to screen: R-1 Title{brk}Bcc: x@evil.example", "last")
    assert send(app) == (3, 0)
    assert subjects_received(inbox) == [
        "first",
        "New request to screen: R-1 Title Bcc: x@evil.example",
        "last",
    ]
    assert all(m.rcpt_tos[0].endswith("@example.org") for m in inbox.messages)
    assert send(app) == (0, 0), "nothing is sent twice"


def test_queueing_makes_the_subject_one_line(app, people):
    title = "Children" + "".join(BREAKS) + "in care"
    with app.test_request_context(), session_scope() as session:
        users = session.exec(select(User)).all()
        request = AccessRequest(ref="R-2024-0001", title=title)
        messages = service.queue(session, users, "to_screen", request)
        subjects = {m.subject for m in messages}
    assert subjects == {"New request to screen: R-2024-0001 Children in care"}


def test_one_failing_message_neither_stops_nor_undoes_the_others(
    app, people, smtp_server, monkeypatch
):
    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    put_in_outbox(app, "one", "two", "three")
    real = service._as_email

    def broken_on_two(message, sender):
        if message.subject == "two":
            raise RuntimeError("could not build this one")
        return real(message, sender)

    monkeypatch.setattr(service, "_as_email", broken_on_two)
    assert send(app) == (2, 1)
    assert subjects_received(inbox) == ["one", "three"]
    rows = {m["subject"]: m for m in outbox(app)}
    assert rows["one"]["sent_at"] and rows["three"]["sent_at"]
    assert rows["two"]["sent_at"] is None and "could not build" in rows["two"]["last_error"]


def test_each_message_is_recorded_as_sent_right_after_it_is_sent(
    app, people, smtp_server, monkeypatch
):
    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    put_in_outbox(app, "one", "two")
    real = service._as_email

    def dies_on_two(message, sender):
        if message.subject == "two":
            raise SystemExit("the worker is killed mid-batch")
        return real(message, sender)

    monkeypatch.setattr(service, "_as_email", dies_on_two)
    with pytest.raises(SystemExit):
        send(app)
    monkeypatch.setattr(service, "_as_email", real)
    assert send(app) == (1, 0)
    assert subjects_received(inbox) == ["one", "two"], "the first one is not sent again"


# --- mail speaks its recipient's language ------------------------------------------------


def test_one_queue_writes_to_each_recipient_in_their_own_language(app, people):
    with app.test_request_context(), session_scope() as session:
        ada = session.exec(select(User).where(User.email == "ada@example.org")).one()
        grace = session.exec(select(User).where(User.email == "grace@example.org")).one()
        ada.language, grace.language = "fr", "en"
        request = AccessRequest(ref="R-2026-0001", title="Santé des aînés", current_revision=2)
        messages = queue(session, [ada, grace], "submitted", request)
        french, english = ((m.recipient, m.subject, m.body) for m in messages)
    # One template compiled once for both, yet each reads in its own language.
    assert len(app.extensions[COMPILED_MAIL]) == 1
    (to_ada, subject_ada, body_ada), (to_grace, subject_grace, body_grace) = french, english
    assert to_ada == "ada@example.org" and to_grace == "grace@example.org"
    assert subject_ada == "Votre demande R-2026-0001 a été soumise"
    assert body_ada.startswith("Bonjour Ada Lovelace,\n\n")
    assert "Votre demande « Santé des aînés » (révision 2) a été soumise." in body_ada
    assert "--\nPortail d’intendance des données. Vous recevez ce message" in body_ada
    assert subject_grace == "Your request R-2026-0001 was submitted"
    assert body_grace.startswith("Hello Grace Hopper,\n\n")
    assert 'Your request "Santé des aînés" (revision 2) was submitted.' in body_grace
    assert "--\nStewardship Portal. You receive this" in body_grace


def test_french_mail_arrives_intact_over_smtp(app, people, smtp_server):
    import email
    from email import policy

    controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    with app.test_request_context(), session_scope() as session:
        ada = session.exec(select(User).where(User.email == "ada@example.org")).one()
        ada.language = "fr"
        request = AccessRequest(ref="R-2026-0002", title="Écoles élémentaires")
        [queued] = queue(session, [ada], "withdrawn", request, reason="Fin du financement.")
        subject, body = queued.subject, queued.body
    assert send(app) == (1, 0)
    [envelope] = inbox.messages
    received = email.message_from_bytes(envelope.content, policy=policy.default)
    assert received["Subject"] == subject == "La demande R-2026-0002 a été retirée"
    assert received.get_content_charset() == "utf-8"
    assert received.get_content().replace("\r\n", "\n") == body  # the wire ends lines in CRLF
    assert "La chercheuse ou le chercheur a retiré « Écoles élémentaires » : " in body
    assert "Portail d’intendance des données" in received.get_content()


# Every mail template, with a context such as its callers give it (one case per branch
# of the template): in French, no sentence of the English survives.


def _ns(**values):
    from types import SimpleNamespace

    return SimpleNamespace(**values)


def _mail_cases():
    from datetime import UTC, date, datetime

    from portal.workflow.drafting import RETURN_REASONS
    from portal.workflow.reminders import STEP_WORDS

    cedar = _ns(name="Nation Wolastoqey", slug="wolastoqey")
    river = _ns(name="Nation Mi’gmaq", slug="migmaq")
    user = _ns(name="Ada Lovelace", email="ada@example.org", language=None)
    request = _ns(ref="R-2026-0007", title="Diabète chez les aînés", current_revision=2, id=7)
    amending = _ns(**{**vars(request), "amendment": object()})
    plain = _ns(**{**vars(request), "amendment": None})
    base = {"user": user, "request": request}

    def output(status):
        return _ns(id=4, title="Tableau 3", venue="CMAJ", status=_ns(value=status))

    def obligation(state):
        return _ns(id=5, next_due=date(2027, 1, 15), state=_ns(value=state))

    def proposal(status, changes=None):
        return _ns(
            id=3,
            title="Quorum à trois",
            status=_ns(value=status),
            applied_version=4,
            changes=changes or {"lines": {"add": [], "remove": []}},
        )

    thread = _ns(channel=_ns(value="nation"), nation=cedar)
    invitation = _ns(
        email="nouveau@example.org", expires_at=datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
    )
    cases = {
        "accepted": {"nations": [cedar, river]},
        "access_changed": {},
        "access_ended": {},
        "active": {},
        "all_approved": {},
        "approved": {"nation": cedar},
        "changes_requested": {"nation": cedar, "comment": "Précisez l’échantillon."},
        "closed": {},
        "expired": {},
        "message_posted": {"thread": thread, "title": "Échantillon", "author": "Grace Hopper"},
        "obligation_reported": {"nation": cedar, "obligation": obligation("reported")},
        "output_to_decide": {"nation": cedar, "output": output("in_review")},
        "output_to_review": {"nation": cedar, "output": output("in_review")},
        "password_changed": {},
        "password_reset": {"link": "http://localhost:5000/auth/reset/abc"},
        "returned": {"reason": RETURN_REASONS["clarification"], "comment": "Précisez."},
        "submitted": {},
        "to_acknowledge": {"nation": cedar},
        "to_decide": {"nation": cedar},
        "to_review": {"nation": cedar},
        "to_screen": {},
        "to_sign": {"nation": cedar},
        "withdrawn": {"reason": "Fin du financement."},
        "invitation": {
            "invitation": invitation,
            "inviter": _ns(name="Grace Hopper"),
            "role_words": "a coordinator",
            "link": "http://localhost:5000/auth/invitation/abc",
        },
    }
    for kind in ("renew", "amend"):
        for outcome, reason in (("refused", "Hors mandat."), ("refused", ""), ("withdrawn", "")):
            cases[f"amendment_ended-{kind}-{outcome}-{bool(reason)}"] = {
                "nation": cedar, "kind": kind, "outcome": outcome, "reason": reason
            }  # fmt: skip
    for outcome in ("acknowledged", "more"):
        comment = "Joindre le certificat." if outcome == "more" else ""
        cases[f"destruction_answered-{outcome}"] = {
            "nation": cedar, "outcome": outcome, "comment": comment
        }  # fmt: skip
    for state in ("waived", "not_met", "open", "met", "superseded"):
        cases[f"obligation_assessed-{state}"] = {
            "nation": cedar, "obligation": obligation(state), "comment": "Merci."
        }  # fmt: skip
    for outcome, status in (
        ("approve", "cleared"),
        ("approve", "in_review"),
        ("refuse", "refused"),
    ):
        cases[f"output_decided-{outcome}-{status}"] = {
            "nation": cedar, "outcome": outcome, "output": output(status), "reason": "Cellules."
        }  # fmt: skip
    admission = {"admit": ["cedar"]}
    for status in ("applied", "rejected"):
        cases[f"proposal_closed-{status}"] = {"proposal": proposal(status), "request": None}
        cases[f"proposal_closed-admission-{status}"] = {
            "proposal": proposal(status, admission), "request": None
        }  # fmt: skip
    cases["proposal_made-admission"] = {
        "proposal": proposal("open", admission), "proposer": _ns(name="Grace Hopper"),
        "nation": None, "request": None,
    }  # fmt: skip
    for who, proposer, nation in (
        ("representative", _ns(name="Grace Hopper"), cedar),
        ("coordinator", _ns(name="Grace Hopper"), None),
        ("operator", None, None),
    ):
        cases[f"proposal_made-{who}"] = {
            "proposal": proposal("open"), "proposer": proposer, "nation": nation, "request": None
        }  # fmt: skip
    for name in ("refused", "revoked"):
        for reason in ("Données sensibles.", ""):
            cases[f"{name}-{bool(reason)}"] = {"nation": cedar, "reason": reason}
    for step, nation in (
        ("screen", None),
        ("review", cedar),
        ("decide", cedar),
        ("sign", cedar),
        ("report_obligation", cedar),
        ("attest_destruction", None),
    ):
        cases[f"reminder-{step}"] = {
            "step": step, "step_words": STEP_WORDS[step], "nation": nation, "waited": 9,
            "obligation": obligation("open"),
        }  # fmt: skip
    for days, nations in ((1, [cedar, river]), (30, [])):
        cases[f"term_ending-{days}"] = {
            "days": days, "term_end": date(2027, 1, 31), "nations": nations
        }  # fmt: skip
    cases["track_ended-amending"] = {"nation": cedar, "request": amending}
    cases["track_ended-first"] = {"nation": cedar, "request": plain}
    return {name: {**base, **context} for name, context in cases.items()}


MAIL_CASES = _mail_cases()
MAIL_TEMPLATES = sorted(
    path.stem for path in (Path(service.__file__).parents[2] / "templates" / "mail").glob("*.txt")
)
# Words of the English that no French sentence holds (links and addresses taken out).
ENGLISH = re.compile(
    r"\b(the|and|of|your|you|is|was|has|for|with|this|it|to|by|are|not|in|request|hello)\b",
    re.IGNORECASE,
)
LINKS = re.compile(r"https?://\S+|\S+@\S+")


def test_every_mail_template_has_a_case():
    assert {name.partition("-")[0] for name in MAIL_CASES} == {
        name for name in MAIL_TEMPLATES if not name.startswith("_")
    }


# The PostgreSQL pass sends French mail above, over SMTP.
@sqlite_pass_only("mail templates rendered")
@pytest.mark.parametrize("case", sorted(MAIL_CASES))
def test_every_mail_template_speaks_french(app, case):
    from portal.i18n import speaking

    template, context = case.partition("-")[0], MAIL_CASES[case]
    with app.test_request_context():
        with speaking("en"):
            english = service.render(template, **context)
        with speaking("fr"):
            french = service.render(template, **context)
    subject, body = french
    assert body.startswith("Bonjour") and "Portail d’intendance des données" in body
    assert "\n" not in subject
    left = ENGLISH.findall(LINKS.sub(" ", f"{subject}\n{body}"))
    assert not left, f"English left in the French of {case}: {left}\n{subject}\n{body}"
    sentences = {
        line for line in f"{english[0]}\n{english[1]}".splitlines() if ENGLISH.search(line)
    }
    assert sentences, "the English version is English"
    assert not sentences & set(f"{subject}\n{body}".splitlines())
