"""Queue notifications in the outbox, and deliver what is waiting.

``queue`` runs inside the transition's transaction (flush, never commit). ``deliver``
runs after the commit: over SMTP when SMTP_HOST is set, otherwise into
``<instance>/mail/`` as .eml files. A failed delivery stays queued for the next try.
"""

import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, g, has_request_context, render_template
from sqlmodel import Session, select

from portal.auth.models import User
from portal.db import after_commit, utcnow
from portal.notify.models import OutboxMessage
from portal.requests.models import AccessRequest

MAX_ATTEMPTS = 10
SMTP_TIMEOUT_SECONDS = 10


def render(template: str, **context) -> tuple[str, str]:
    """The subject and body of templates/mail/<template>.txt (its first line is the subject)."""
    text = render_template(f"mail/{template}.txt", **context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def queue(
    session: Session,
    recipients: Iterable[User],
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
        subject, body = render(template, user=user, request=request, **context)
        message = OutboxMessage(
            recipient=user.email,
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


def _as_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or "localhost")
    email.set_content(message.body)
    return email


def deliver(session: Session, config: dict, limit: int = 100) -> tuple[int, int]:
    """Send waiting messages; returns (sent, failed). Commit afterwards."""
    waiting = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id)
        .limit(limit)
        # Two senders at once (two workers) each take different messages.
        .with_for_update(skip_locked=True)
    ).all()
    if not waiting:
        return 0, 0
    sender = config.get("MAIL_FROM", "portal@localhost")
    if not config.get("SMTP_HOST"):
        folder = Path(config["INSTANCE_PATH"]) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        for message in waiting:
            path = folder / f"{message.id:08d}.eml"
            path.write_bytes(bytes(_as_email(message, sender)))
            _mark_sent(session, message)
        return len(waiting), 0
    try:
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT_SECONDS)
    except OSError as error:
        for message in waiting:
            _mark_failed(session, message, error)
        return 0, len(waiting)
    sent = failed = 0
    with smtp:
        for message in waiting:
            try:
                smtp.send_message(_as_email(message, sender))
            except (smtplib.SMTPException, OSError) as error:
                _mark_failed(session, message, error)
                failed += 1
            else:
                _mark_sent(session, message)
                sent += 1
    return sent, failed


def _mark_sent(session: Session, message: OutboxMessage) -> None:
    message.sent_at = utcnow()
    message.attempts += 1
    session.add(message)


def _mark_failed(session: Session, message: OutboxMessage, error: Exception) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    session.add(message)


def deliver_in_background(app) -> None:
    """Send the outbox from a short-lived thread, so a slow mail server never holds
    up the person who made the change. Whatever fails stays queued for the next try
    (``portal mail send`` retries from cron)."""
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
