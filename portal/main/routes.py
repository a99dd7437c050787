"""The home page: each person's queues, stalled reviews, then every request they may see."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from flask_login import current_user

from portal import i18n
from portal.auth import accounts
from portal.db import get_session
from portal.errors import ValidationError
from portal.policy.service import authorize
from portal.policy.vocabulary import Action
from portal.requests.models import RequestStatus
from portal.transparency import ending, obligations
from portal.transparency.requestlist import request_list
from portal.web import error_page, safe_next
from portal.workflow.queues import QUEUE_SHOWN, queues_for, stalled_for

bp = Blueprint("main", __name__)
ATTESTATIONS_SHOWN = QUEUE_SHOWN  # overdue destruction attestations listed, as a queue


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    session = get_session()
    # The person itself, not flask-login's proxy: the queues ask for it thousands of times.
    user = current_user._get_current_object()
    # The overdue attestations: the longest waiting, and whether more wait.
    late = ending.overdue_for(session, user, limit=ATTESTATIONS_SHOWN + 1)
    try:  # the list of requests: ?status= filters it, ?after=<ref> goes on to older ones
        listing = request_list(session, user, request.args.get("status"), request.args.get("after"))
    except ValidationError as error:
        return error_page(400, error.message)
    return render_template(
        "main/home.html",
        queues=queues_for(session, user),
        stalled=stalled_for(session, user),
        overdue=obligations.overdue_for(session, user),
        overdue_attestations=late[:ATTESTATIONS_SHOWN],
        more_overdue_attestations=len(late) > ATTESTATIONS_SHOWN,
        may_create=authorize(session, user, Action.CREATE).allowed,
        listing=listing,
        requests=listing.requests,
        statuses=list(RequestStatus),
    )


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says: answer with the page's icon."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )


@bp.route("/language", methods=["POST"])
def choose_language():
    """The language switch on every page: a signed-in person's setting, else a cookie;
    then back to the page it was used on."""
    language = request.form.get("language", "")
    if language not in i18n.LANGUAGES:
        abort(400)
    if current_user.is_authenticated:
        accounts.set_language(get_session(), current_user._get_current_object(), language)
    response = redirect(safe_next(request.form.get("next")))
    i18n.remember_choice(response, language)
    return response
