"""Pages for coordinators (screening), stewards (reviews) and representatives
(decisions, refusal after approval, revocation). Each builds a workflow command; what a
person may open is what available() offers them."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.db import get_session, reads_first
from portal.errors import NotFound, Refused, ValidationError
from portal.registry.models import Nation
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.forms import (
    ASSESSMENT_WORDS,
    CRITERIA,
    DecisionForm,
    ReadsRevision,
    ReviewForm,
    RevokeForm,
    ScreenForm,
)
from portal.reviews.models import TrackStatus
from portal.reviews.service import track_for
from portal.reviews.terms import catalogue_in_force
from portal.transparency.overview import overview
from portal.web import attempt, load, refusal_status
from portal.workflow import Decide, Review, Revoke, Screen, check
from portal.workflow.deciding import conditions_in_force

bp = Blueprint("reviews", __name__, url_prefix="/requests")


def _nation(slug: str) -> Nation:
    try:
        return get_nation(get_session(), slug)
    except NotFound:
        raise NotFound(_("no Nation %(slug)s", slug=repr(slug))) from None


def _page(template: str, req, status: int = 200, **context):
    view = overview(get_session(), current_user, req)
    page = render_template(
        template, req=req, view=view, criteria=CRITERIA, assessments=ASSESSMENT_WORDS, **context
    )
    return page, status


def _step(
    template: str, ref: str, action: str, form, command_of, done: str, nation=None, start=None
):
    """One page of one workflow step: the form (GET, or POST with a form error), or the
    step performed and back to the request, or the same form with what was typed and
    why it was refused. Opening it needs the step to be available (403 or 409 if not);
    ``start(form, req)`` then fills the form a GET shows."""
    req = load(ref)
    context = {"form": form, "nation": nation}
    try:
        context["option"] = check(get_session(), current_user, req, action, nation)
    except Refused as refusal:
        return _page(template, req, 409, refusal=refusal, **context)
    if request.method == "GET":
        if isinstance(form, ReadsRevision):
            form.shows(req)
        if start is not None:
            start(form, req)
        return _page(template, req, **context)
    if not form.validate():  # what was typed comes back, with what is wrong with it
        return _page(template, req, 422, **context)
    outcome = attempt(ref, command_of(form), form)
    if isinstance(outcome, ValidationError):  # on its fields, in the page's summary
        form.form_errors += [m for n, m in outcome.errors.items() if not hasattr(form, n)]
        return _page(template, load(ref), refusal_status(outcome), **context)
    if not isinstance(outcome, AccessRequest):
        req = load(ref)
        if isinstance(form, ReadsRevision):  # the page shows the request anew, and why
            form.shows(req)
        return _page(template, req, refusal_status(outcome), refusal=outcome, **context)
    flash(done, "info")
    return redirect(url_for("requests.show", ref=ref))


@bp.route("/<ref>/screen", methods=["GET", "POST"])
@login_required
def screen(ref: str):
    def command(form: ScreenForm) -> Screen:
        comment = form.comment.data or ""
        return Screen(form.outcome.data, comment, form.reason.data, revision=form.revision.data)

    done = _("Screening recorded.")
    return _step("reviews/screen.html", ref, "screen", ScreenForm(), command, done)


@bp.route("/<ref>/review/<nation_slug>", methods=["GET", "POST"])
@login_required
def review(ref: str, nation_slug: str):
    nation = _nation(nation_slug)

    def command(form: ReviewForm) -> Review:
        opinion = form.recommendation.data, form.comment.data or "", form.criteria()
        return Review(
            nation.slug, *opinion,
            conflict_of_interest=form.conflict_of_interest.data,
            tell_researcher=form.tell_researcher.data,
            revision=form.revision.data,
        )  # fmt: skip

    done = _("Your review is recorded.")
    return _step("reviews/review.html", ref, "review", ReviewForm(), command, done, nation)


@bp.route("/<ref>/decide/<nation_slug>", methods=["GET", "POST"])
@login_required
@reads_first  # the last approval renders the agreement outside the write lock (attempt())
def decide(ref: str, nation_slug: str):
    nation = _nation(nation_slug)

    def command(form: DecisionForm) -> Decide:
        conditions = tuple(form.conditions())
        reason = form.reason.data or ""
        return Decide(
            nation.slug, form.outcome.data, reason, conditions, form.given_dues(),
            revision=form.revision.data,
        )  # fmt: skip

    def start(form: DecisionForm, req: AccessRequest) -> None:
        form.start_from(conditions_in_force(get_session(), req, nation))

    form = DecisionForm(catalogue_in_force(get_session()))
    # The Nation approved this revision already (the others may not have yet).
    track = track_for(get_session(), load(ref), nation)
    if track is not None and track.status == TrackStatus.APPROVED:
        form.set_after_approval()
    done = _("%(nation)s's decision is recorded.", nation=nation.name)
    return _step("reviews/decide.html", ref, "decide", form, command, done, nation, start)


@bp.route("/<ref>/revoke/<nation_slug>", methods=["GET", "POST"])
@login_required
def revoke(ref: str, nation_slug: str):
    """Revocation takes effect at once, so the form asks for the reason and a
    confirmation that the representative means it."""
    nation = _nation(nation_slug)

    def command(form: RevokeForm) -> Revoke:
        return Revoke(nation=nation.slug, reason=form.reason.data or "")

    form = RevokeForm()
    if load(ref).status != RequestStatus.ACTIVE:  # signatures awaited: access never began
        form.set_before_access()
        done = _("Revoked for %(nation)s: the request has ended.", nation=nation.name)
    else:
        done = _("Revoked for %(nation)s: access has ended.", nation=nation.name)
    return _step("reviews/revoke.html", ref, "revoke", form, command, done, nation)
