"""The home page: each person's view of the requests they may see."""

from flask import Blueprint, render_template
from flask_login import current_user

from portal.db import get_session
from portal.requests.service import visible_requests

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    requests = visible_requests(get_session(), current_user)
    return render_template("main/home.html", requests=requests)
