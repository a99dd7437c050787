"""The rules in force in words (/rules), every version (/rules/history), and one version
in full with what changed (/rules/versions/<n>). Reading them is the policy's
``read_rules``, which every role holds; proposals have pages of their own."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from portal.db import get_session
from portal.policy.versions import rules_in_force
from portal.transparency.rulebook import history, require_rules_reader, rulebook, version_page

bp = Blueprint("rules", __name__, url_prefix="/rules")


@bp.before_request
@login_required
def _members_only():
    require_rules_reader(get_session(), current_user)


@bp.route("")
def in_force():
    session = get_session()
    return render_template("rules/in_force.html", book=rulebook(session, rules_in_force(session)))


@bp.route("/history")
def versions():
    return render_template("rules/history.html", versions=history(get_session()))


@bp.route("/versions/<int:number>")
def version(number: int):
    session = get_session()
    compare = request.args.get("compare") == "current"
    page = version_page(session, number, rules_in_force(session), compare=compare)
    return render_template("rules/version.html", page=page, compare=compare)
