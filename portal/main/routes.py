"""The home page: each person's queues, stalled reviews, then every request they may see."""

from flask import Blueprint, Response, current_app, render_template, send_from_directory
from flask_login import current_user

from portal.db import get_session, reads_only
from portal.policy.access import visible_requests
from portal.policy.service import authorize
from portal.policy.vocabulary import Action
from portal.workflow.queues import queues_for, stalled_for

bp = Blueprint("main", __name__)


@bp.route("/")
@reads_only
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    session = get_session()
    return render_template(
        "main/home.html",
        queues=queues_for(session, current_user),
        stalled=stalled_for(session, current_user),
        may_create=authorize(session, current_user, Action.CREATE).allowed,
        requests=visible_requests(session, current_user),
    )


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says: answer with the page's icon."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )
