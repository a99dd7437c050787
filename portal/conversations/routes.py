"""A conversation's page: its messages, oldest first, and the form to write in it. A
thread the person may not read is a 404 (messaging.find_thread); writing is the
workflow's ``message`` command, as the API and the CLI build it."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.conversations import service as conversations
from portal.conversations.forms import MessageForm
from portal.db import get_session
from portal.requests.models import AccessRequest
from portal.transparency.conversations import shown_messages, summaries
from portal.web import attempt, load, refusal_status
from portal.workflow import Message
from portal.workflow.messaging import find_thread

bp = Blueprint("conversations", __name__, url_prefix="/requests")


@bp.app_template_global()
def conversation_threads(req: AccessRequest) -> list:
    """The request page's panel: the threads the signed-in person may read."""
    return summaries(get_session(), current_user, req)


@bp.route("/<ref>/conversations/<channel>", methods=["GET", "POST"], defaults={"nation_slug": None})
@bp.route("/<ref>/conversations/<channel>/<nation_slug>", methods=["GET", "POST"])
@login_required
def thread(ref: str, channel: str, nation_slug: str | None):
    session = get_session()
    req = load(ref)
    found = find_thread(session, current_user, req, channel, nation_slug)
    form = MessageForm()

    def page(status: int = 200, refusal=None):
        context = {"req": req, "thread": found, "form": form, "refusal": refusal}
        context["title"] = conversations.title(found)
        context["messages"] = shown_messages(session, current_user, req, found)
        return render_template("conversations/thread.html", **context), status

    if http_request.method == "GET":
        return page()
    if not form.validate():  # the CSRF token
        return page(400)
    outcome = attempt(ref, Message(channel, nation_slug, form.body.data or ""), form)
    if not isinstance(outcome, AccessRequest):
        return page(refusal_status(outcome), outcome)
    flash(_("Your message is posted."), "info")
    return redirect(
        url_for("conversations.thread", ref=ref, channel=channel, nation_slug=nation_slug)
    )
