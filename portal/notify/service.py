"""Queue notifications in the outbox, and deliver what is waiting.

``queue`` runs inside the transition's transaction (flush, never commit). ``deliver``
runs after the commit: over SMTP when SMTP_HOST is set, otherwise into
``<instance>/mail/`` as .eml files. A failed delivery stays queued for the next try;
after MAX_ATTEMPTS the message is marked failed, kept and shown to administrators, who
send it again (``retry``): nothing is dropped.

Headers are made one line when queued and again when sent: a line break in a header
(from a request's title, say) would be refused by the mail library, or split into a
header of its own, and one bad message must never hold up the others.
"""

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context
from jinja2 import Template
from sqlmodel import Session, select

from portal import metrics
from portal.auth.models import User
from portal.db import after_commit, utcnow
from portal.i18n import language_of, speaking
from portal.notify.models import OutboxMessage
from portal.paths import private_dir, write_private
from portal.requests.models import AccessRequest
from portal.validation import CONTROL_CHARACTERS

MAX_ATTEMPTS = 10
COMPILED_MAIL = "portal.compiled_mail"  # app.extensions' key for the compiled templates
SMTP_TIMEOUT_SECONDS = 10


def one_line(text: str) -> str:
    """``text`` fit for a mail header: every line break or control character a space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())


@dataclass(frozen=True)
class Address:
    """Someone mailed by address alone, with no account yet (an invitee)."""

    email: str
    name: str = ""
    is_active: bool = True


def render(template: str, **context) -> tuple[str, str]:
    """The subject (one line) and body of templates/mail/<template>.txt (its first line
    is the subject)."""
    subject, body = _render(f"mail/{template}.txt", **context)
    return one_line(subject)[:300], body.strip() + "\n"


def queue(
    session: Session,
    recipients: Iterable[User | Address],
    template: str,
    request: AccessRequest | None = None,
    **context,
) -> list[OutboxMessage]:
    """One message per distinct recipient, rendered from templates/mail/<template>.txt
    (its first line is the subject)."""
    messages = []
    seen: set[str] = set()
    for user in recipients:
        if user.email in seen or not user.is_active:
            continue
        seen.add(user.email)
        with speaking(language_of(user)):
            subject, body = render(template, user=user, request=request, **context)
        message = OutboxMessage(
            recipient=one_line(user.email),
            subject=subject,
            body=body,
            request_id=request.id if request else None,
        )
        session.add(message)
        messages.append(message)
    session.flush()
    send_after = has_request_context() and current_app.config["MAIL_SEND_AFTER_REQUEST"]
    if messages and send_after and not g.get("mail_delivery_planned"):
        g.mail_delivery_planned = True
        app = current_app._get_current_object()
        after_commit(lambda: deliver_in_background(app))
    return messages


def link(endpoint: str, _anchor: str | None = None, **values) -> str:
    """The absolute address of a page, under PORTAL_URL: mail is read outside any web
    request, so the address cannot come from one."""
    base = urlsplit(current_app.config["PORTAL_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    address = adapter.build(endpoint, values, force_external=True)
    return f"{address}#{_anchor}" if _anchor else address


def _render(name: str, **context) -> tuple[str, str]:
    """The subject (the template's first line) and the body (the rest), rendered apart,
    so a line break inside a value (a title) never moves text from one to the other."""
    app = current_app._get_current_object()
    source, _filename, _uptodate = app.jinja_env.loader.get_source(app.jinja_env, name)
    # A template handed its own ``link`` (an invitation's, made once) keeps it.
    context = {"link": link, **context}
    app.update_template_context(context)  # what render_template adds (``_``, config)
    subject, body = (part.render(context) for part in _compiled(app, source))
    return subject, body


def _compiled(app: Flask, source: str) -> tuple[Template, Template]:
    """A mail template's subject line and body, compiled once for each text of it and
    kept with the app (``app.extensions``, so they go when the app goes): a job sends
    thousands of messages from a few templates, and compiling is most of the cost.
    Mail is plain text: nothing in it is HTML-escaped (as render_template does for .txt)."""
    kept = app.extensions.setdefault(COMPILED_MAIL, {})
    if source not in kept:
        first, _, rest = source.partition("\n")
        kept[source] = tuple(
            app.jinja_env.from_string("{% autoescape false %}" + part + "{% endautoescape %}")
            for part in (first, rest)
        )
    return kept[source]


def _as_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = one_line(sender)
    email["To"] = one_line(message.recipient)
    email["Subject"] = one_line(message.subject)
    email["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or "localhost")
    email.set_content(message.body)
    return email


def _next_waiting(session: Session, after_id: int) -> OutboxMessage | None:
    return session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.id > after_id,
        )
        .order_by(OutboxMessage.id)
        .limit(1)
        # Two senders at once (two workers) each take different messages.
        .with_for_update(skip_locked=True)
    ).first()


class _Transport:
    """Where messages go: an SMTP connection opened on first use, or the mail folder."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.down: Exception | None = None  # the server could not be reached: stop trying

    def send(self, message: OutboxMessage, email: EmailMessage) -> None:
        if not self.config.get("SMTP_HOST"):
            folder = private_dir(Path(self.config["INSTANCE_PATH"]) / "mail")
            # Mail names people and requests: readable by the portal's account alone.
            write_private(folder / f"{message.id:08d}.eml", bytes(email))
            return
        if self.down is not None:
            raise self.down
        if self.smtp is None:
            try:
                self.smtp = smtplib.SMTP(
                    self.config["SMTP_HOST"],
                    self.config["SMTP_PORT"],
                    timeout=SMTP_TIMEOUT_SECONDS,
                )
            except OSError as error:
                self.down = error
                raise
        self.smtp.send_message(email)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()


def deliver(session: Session, config: dict, limit: int = 100) -> tuple[int, int]:
    """Send waiting messages; returns (sent, failed).

    Each message is its own transaction, committed here (the one service that commits):
    a mail once sent cannot be unsent, so it is recorded as sent the moment the server
    takes it, and a message that fails is recorded as failed without holding up or
    undoing the others."""
    sender = config.get("MAIL_FROM", "portal@localhost")
    transport = _Transport(config)
    sent = failed = last_id = 0
    try:
        for _ in range(limit):
            message = _next_waiting(session, last_id)
            if message is None:
                break
            last_id = message.id
            try:
                transport.send(message, _as_email(message, sender))
            except Exception as error:  # whatever it was, the other messages still go
                _mark_failed(session, message, error)
                failed += 1
            else:
                _mark_sent(session, message)
                sent += 1
            session.commit()
    finally:
        transport.close()
        metrics.count_job("mail", "sent", sent)
        metrics.count_job("mail", "failed", failed)
    return sent, failed


def _mark_sent(session: Session, message: OutboxMessage) -> None:
    message.sent_at = utcnow()
    message.attempts += 1
    session.add(message)


def _mark_failed(session: Session, message: OutboxMessage, error: Exception) -> None:
    message.attempts += 1
    message.last_error = one_line(f"{type(error).__name__}: {error}")[:500]
    if message.attempts >= MAX_ATTEMPTS:
        message.failed_at = utcnow()
        metrics.count_job("mail", "gave_up")
    session.add(message)


def failed_messages(session: Session) -> list[OutboxMessage]:
    """The messages that failed every attempt, the newest first (for administrators)."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.failed_at.is_not(None), OutboxMessage.sent_at.is_(None))
            .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
        )
    )


def retry(session: Session, message_id: int) -> OutboxMessage | None:
    """Put a failed message back in the outbox with its attempts counted from nought;
    None if there is no such failed message. Flush, never commit."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.failed_at is None or message.sent_at is not None:
        return None
    message.failed_at = None
    message.attempts = 0
    session.add(message)
    session.flush()
    return message


def deliver_in_background(app) -> None:
    """Send the outbox from a short-lived thread, so a slow mail server never holds
    up the person who made the change. Whatever fails stays queued for the next try
    (the ``deliver_mail`` job, portal/jobs/registry.py)."""
    import threading

    from portal.db import session_scope

    def run() -> None:
        with app.app_context():
            try:
                with session_scope(app) as session:
                    deliver(session, app.config)
            except Exception:
                app.logger.exception("mail delivery failed; messages stay queued")

    threading.Thread(target=run, name="portal-mail", daemon=True).start()
