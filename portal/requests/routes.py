"""Pages for drafting, submitting and withdrawing a request, and the request page."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.db import get_session
from portal.errors import Refused, ValidationError
from portal.registry.service import list_datasets
from portal.requests import fields as request_fields
from portal.requests import service
from portal.requests.forms import HINTS, DraftForm, options
from portal.requests.models import AccessRequest, AmendmentKind, RequestStatus
from portal.transparency.ending import end_of_access
from portal.transparency.overview import overview
from portal.transparency.privacy import sight
from portal.transparency.reasons import reasons
from portal.transparency.timeline import request_timeline
from portal.validation import event_cursor
from portal.web import attempt, error_page, load, show_refusal
from portal.workflow import Amend, Edit, Renew, Submit, Withdraw, check, create_draft
from portal.workflow.unmet import asked_by

bp = Blueprint("requests", __name__, url_prefix="/requests")


def _draft_form(form: DraftForm | None = None, obj: AccessRequest | None = None) -> DraftForm:
    session = get_session()
    if form is None:
        data = service.working_copy(session, obj) if obj is not None else {}
        form = DraftForm(data=data or None)
    datasets = list_datasets(session)
    form.datasets.choices = options((d.slug, d.title) for d, _nations in datasets)
    form.dataset_nations = {d.slug: nations for d, nations in datasets}
    return form


def _form_is_valid(form: DraftForm) -> bool:
    """WTForms' type checks; when they fail, also the service's checks of whatever did
    parse, so a person sees every problem at once rather than one round at a time."""
    if form.validate():
        return True
    parsed = {name: value for name, value in form.values().items() if not form[name].errors}
    errors: dict[str, str] = {}
    try:
        request_fields.clean(get_session(), parsed)
    except ValidationError as error:
        errors = error.errors
    _refused_save(form, errors)
    return False


def _refused_save(form: DraftForm, errors: dict[str, str]) -> None:
    """The reasons a save was refused, on their fields. When the researcher meant to
    submit, also whatever submission would refuse next (an empty field, a team row
    begun but not finished), so the first answer names everything to fix: a field with
    its own error is not called empty too, but team rows are named beside a bad e-mail."""
    form.show_errors(errors)
    if "submit" not in request.form:
        return
    missing = request_fields.missing_for_submission(form.values())
    form.show_errors(
        {name: why for name, why in missing.items() if name == "team" or not form[name].errors}
    )


def _render_draft(form: DraftForm, req: AccessRequest | None, status: int = 200):
    # What the researcher was asked to change, beside the fields they change.
    said = reasons(get_session(), req, sight(get_session(), current_user, req)) if req else []
    # The Nations' rules the saved draft does not meet, beside the fields that meet them.
    unmet = overview(get_session(), current_user, req, with_timeline=False).unmet if req else []
    # What each Nation whose datasets can be chosen asks, before anything is submitted.
    choosable = (n for nations in form.dataset_nations.values() for n in nations)
    asks = asked_by(get_session(), choosable)
    form.offer_team_rows()
    context = {"form": form, "req": req, "hints": HINTS, "reasons": said, "unmet": unmet}
    return render_template("requests/edit.html", asks=asks, **context), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = _draft_form(DraftForm() if request.method == "POST" else None)
    if request.method == "GET":
        return _render_draft(form, None)
    if not _form_is_valid(form):
        return _render_draft(form, None, 422)
    try:
        req = create_draft(get_session(), current_user, form.values())
    except ValidationError as error:
        _refused_save(form, error.errors)
        return _render_draft(form, None, 422)
    return _after_save(req)


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@login_required
def edit(ref: str):
    req = load(ref)
    try:
        check(get_session(), current_user, req, "edit")
    except Refused as refusal:
        return show_refusal(ref, refusal)
    if request.method == "GET":
        form = _draft_form(obj=req)
        if request.args.get(SHOW_GAPS):  # landed here after a refused submission
            edited = service.working_copy(get_session(), req)
            form.show_errors(request_fields.missing_for_submission(edited))
        return _render_draft(form, req)
    form = _draft_form(DraftForm())
    if not _form_is_valid(form):
        return _render_draft(form, req, 422)
    outcome = attempt(ref, Edit(fields=form.values()))
    if isinstance(outcome, ValidationError):  # put on the form once, as for a new draft
        _refused_save(form, outcome.errors)
        return _render_draft(form, req, 422)
    if not isinstance(outcome, AccessRequest):
        flash(outcome.message, "error")
        return redirect(url_for("requests.show", ref=ref))
    return _after_save(outcome)


# The edit page's query flag: show what submission still needs, on the saved draft.
SHOW_GAPS = "gaps"


def _after_save(req: AccessRequest):
    """The draft is saved (and committed, even if submission below is refused:
    nothing typed is ever lost). Then submit, if that was the button pressed. Either
    way the browser is sent on (redirect after POST): reloading the page it lands on
    never posts the form, and so never makes a second draft."""
    if "submit" not in request.form:
        flash(_("Draft saved."), "info")
        return redirect(url_for("requests.show", ref=req.ref))
    outcome = attempt(req.ref, Submit())
    if isinstance(outcome, ValidationError):
        flash(
            _("Your draft is saved, but it cannot be submitted yet: see the fields marked."),
            "error",
        )
        return redirect(url_for("requests.edit", ref=req.ref, **{SHOW_GAPS: 1}))
    if not isinstance(outcome, AccessRequest):
        flash(
            _("Your draft is saved, but it was not submitted: %(why)s", why=outcome.message),
            "error",
        )
        return redirect(url_for("requests.edit", ref=req.ref))
    flash(_("Submitted. A coordinator screens your request next."), "info")
    return redirect(url_for("requests.show", ref=req.ref))


@bp.route("/<ref>")
@login_required
def show(ref: str):
    req = load(ref)
    session = get_session()
    return render_template(
        "requests/show.html",
        req=req,
        view=overview(session, current_user, req),
        end=end_of_access(session, current_user, req),
    )


@bp.route("/<ref>/timeline")
@login_required
def timeline(ref: str):
    """Everything that happened to the request, oldest first, 100 events a page."""
    req = load(ref)
    try:
        after = event_cursor("after", request.args.get("after"))
    except ValidationError as error:
        return error_page(400, error.message)
    session = get_session()
    page = request_timeline(session, req, sight(session, current_user, req), after)
    return render_template("requests/timeline.html", req=req, page=page, after=after)


# The withdraw form's fields, as they are named on the request page.
WITHDRAW_FIELD_IDS = {"reason": "withdraw-reason"}


@bp.route("/<ref>/withdraw", methods=["POST"])
@login_required
def withdraw(ref: str):
    # What is withdrawn: the request, or the renewal or amendment open on it (the
    # workflow ends that alone, and the request stays active).
    before = load(ref)
    kind = before.amendment_kind if before.amendment is not None else None
    outcome = attempt(ref, Withdraw(reason=request.form.get("reason", "")))
    if isinstance(outcome, ValidationError):  # the panel opens again, on the field
        error = outcome.errors.get("reason")
        return show_refusal(ref, outcome, withdraw_error=error, field_ids=WITHDRAW_FIELD_IDS)
    if not isinstance(outcome, AccessRequest):
        return show_refusal(ref, outcome)
    if outcome.status is RequestStatus.WITHDRAWN or kind is None:
        done = _("The request is withdrawn.")
    elif kind is AmendmentKind.RENEW:
        done = _("The renewal is withdrawn: access continues under the agreement in force.")
    else:
        done = _("The amendment is withdrawn: access continues under the agreement in force.")
    flash(done, "info")
    return redirect(url_for("requests.show", ref=ref))


# Renewal and amendment of an active request: the forms on the request page.
OPENING = {"renew": Renew, "amend": Amend}


@bp.route("/<ref>/<any(renew, amend):kind>", methods=["POST"])
@login_required
def open_amendment(ref: str, kind: str):
    """Open a renewal or amendment, then edit it as a draft (the request stays active)."""
    outcome = attempt(ref, OPENING[kind](reason=request.form.get("reason", "")))
    if isinstance(outcome, ValidationError):  # the panel opens again, on the field
        error = outcome.errors.get("reason")
        field_ids = {"reason": f"{kind}-reason"}
        return show_refusal(ref, outcome, amend_error=(kind, error), field_ids=field_ids)
    if not isinstance(outcome, AccessRequest):
        return show_refusal(ref, outcome)
    if kind == "renew":
        opened = _(
            "The renewal is open: access continues under the agreement in force. Change what "
            "the renewal changes, then submit it for screening and the Nations' review."
        )
    else:
        opened = _(
            "The amendment is open: access continues under the agreement in force. Change what "
            "the amendment changes, then submit it for screening and the Nations' review."
        )
    flash(opened, "info")
    return redirect(url_for("requests.edit", ref=ref))
