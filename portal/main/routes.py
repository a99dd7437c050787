"""The home page: each person's queue, then every request they may see."""

from flask import Blueprint, render_template
from flask_login import current_user

from portal.db import get_session
from portal.requests.queues import queues_for
from portal.requests.service import visible_requests

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    session = get_session()
    return render_template(
        "main/home.html",
        queues=queues_for(session, current_user),
        requests=visible_requests(session, current_user),
    )
