"""Pages for coordinators (screening), stewards (reviews) and representatives (decisions)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.db import get_session
from portal.errors import Forbidden, NotFound, Refused, ValidationError
from portal.policy.service import authorize
from portal.registry.service import get_nation
from portal.requests import workflow
from portal.requests.overview import overview
from portal.requests.routes import load
from portal.reviews.forms import CRITERIA, DecisionForm, ReviewForm, ScreenForm

bp = Blueprint("reviews", __name__, url_prefix="/requests")


def _nation(slug: str):
    try:
        return get_nation(get_session(), slug)
    except NotFound:
        abort(404)


def _page(template: str, req, status: int = 200, **context):
    view = overview(get_session(), current_user, req)
    return render_template(template, req=req, view=view, criteria=CRITERIA, **context), status


def _refused(template: str, req, form, error, **context):
    """Back to the same page with what was typed, and why it was refused."""
    if isinstance(error, ValidationError):
        for name, message in error.errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [message]
        return _page(template, req, 422, form=form, refusal=error, **context)
    return _page(template, req, 409, form=form, refusal=error, **context)


@bp.route("/<ref>/screen", methods=["GET", "POST"])
@login_required
def screen(ref: str):
    req = load(ref, for_update=request.method == "POST")
    form = ScreenForm()
    if request.method == "GET" or not form.validate():
        return _page("reviews/screen.html", req, form=form)
    try:
        workflow.screen(
            get_session(),
            current_user,
            req,
            form.outcome.data,
            form.comment.data or "",
            form.reason.data,
        )
    except Forbidden:
        abort(403)
    except (Refused, ValidationError) as error:
        return _refused("reviews/screen.html", req, form, error)
    flash("Screening recorded.", "info")
    return redirect(url_for("requests.show", ref=ref))


@bp.route("/<ref>/review/<nation_slug>", methods=["GET", "POST"])
@login_required
def review(ref: str, nation_slug: str):
    req = load(ref, for_update=request.method == "POST")
    nation = _nation(nation_slug)
    form = ReviewForm()
    if request.method == "GET" or not form.validate():
        return _page("reviews/review.html", req, form=form, nation=nation)
    try:
        workflow.review(
            get_session(),
            current_user,
            req,
            nation,
            recommendation=form.recommendation.data,
            comment=form.comment.data or "",
            criteria=form.criteria(),
            conflict_of_interest=form.conflict_of_interest.data,
        )
    except Forbidden:
        abort(403)
    except (Refused, ValidationError) as error:
        return _refused("reviews/review.html", req, form, error, nation=nation)
    flash("Your review is recorded.", "info")
    return redirect(url_for("requests.show", ref=ref))


@bp.route("/<ref>/decide/<nation_slug>", methods=["GET", "POST"])
@login_required
def decide(ref: str, nation_slug: str):
    req = load(ref, for_update=request.method == "POST")
    nation = _nation(nation_slug)
    form = DecisionForm()
    blocked = authorize(get_session(), current_user, "approve", nation=nation, request=req)
    if blocked.forbidden_by:
        abort(403)
    context = {"nation": nation, "approval_blocked_by": blocked.blocked_by}
    if request.method == "GET" or not form.validate():
        return _page("reviews/decide.html", req, form=form, **context)
    try:
        workflow.decide(
            get_session(),
            current_user,
            req,
            nation,
            outcome=form.outcome.data,
            reason=form.reason.data or "",
            conditions=form.conditions(),
        )
    except Forbidden:
        abort(403)
    except (Refused, ValidationError) as error:
        return _refused("reviews/decide.html", req, form, error, **context)
    flash(f"{nation.name}'s decision is recorded.", "info")
    return redirect(url_for("requests.show", ref=ref))
