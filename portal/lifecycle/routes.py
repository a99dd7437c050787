"""The pages of an obligation: the researcher reports on it, the Nation owed it assesses
it. Each builds a workflow command; a page opens when available() offers the step."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.db import get_session
from portal.errors import NotFound, Refused, ValidationError
from portal.lifecycle import service as lifecycle
from portal.lifecycle.forms import AssessForm, ReportForm
from portal.lifecycle.models import Obligation
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.transparency.obligations import show
from portal.transparency.overview import overview
from portal.transparency.privacy import sight
from portal.web import attempt, load, refusal_status
from portal.workflow import AssessObligation, ReportObligation, check
from portal.workflow.obligations import outcomes_for

bp = Blueprint("lifecycle", __name__, url_prefix="/requests")


def _obligation(req: AccessRequest, obligation_id: int) -> Obligation:
    obligation = lifecycle.find(get_session(), req, obligation_id, lock=False)
    if obligation is None:
        raise NotFound(f"no obligation {obligation_id} on request {req.ref}")
    return obligation


def _page(template: str, req, obligation, status: int = 200, **context):
    session = get_session()
    nation = session.get(Nation, obligation.nation_id)
    shown = show(obligation, nation, sight(session, current_user, req), date.today())
    view = overview(session, current_user, req, with_timeline=False)
    return render_template(template, req=req, view=view, shown=shown, **context), status


def _step(template: str, ref: str, obligation_id: int, action: str, form, command_of, done: str):
    """Like the review pages' steps: the form, or the step done and back to the request,
    or the form again with what was typed and why it was refused."""
    req = load(ref)
    obligation = _obligation(req, obligation_id)
    context = {"form": form}
    try:
        context["option"] = check(get_session(), current_user, req, action, obligation=obligation)
    except Refused as refusal:
        return _page(template, req, obligation, 409, refusal=refusal, **context)
    if request.method == "GET":
        return _page(template, req, obligation, **context)
    if not form.validate():
        return _page(template, req, obligation, 422, **context)
    outcome = attempt(ref, command_of(form), form)
    if isinstance(outcome, ValidationError):
        form.form_errors += [m for n, m in outcome.errors.items() if not hasattr(form, n)]
        return _page(template, load(ref), obligation, refusal_status(outcome), **context)
    if not isinstance(outcome, AccessRequest):
        status = refusal_status(outcome)
        return _page(template, load(ref), obligation, status, refusal=outcome, **context)
    flash(done, "info")
    return redirect(url_for("requests.show", ref=ref, _anchor="obligations-h"))


@bp.route("/<ref>/obligations/<int:obligation_id>/report", methods=["GET", "POST"])
@login_required
def report(ref: str, obligation_id: int):
    def command(form: ReportForm) -> ReportObligation:
        return ReportObligation(obligation_id, form.text.data or "")

    done = "Your report is recorded; the Nation owed it assesses it."
    return _step(
        "lifecycle/report.html",
        ref,
        obligation_id,
        "report_obligation",
        ReportForm(),
        command,
        done,
    )


@bp.route("/<ref>/obligations/<int:obligation_id>/assess", methods=["GET", "POST"])
@login_required
def assess(ref: str, obligation_id: int):
    req = load(ref)
    outcomes = outcomes_for(get_session(), current_user, req, _obligation(req, obligation_id))

    def command(form: AssessForm) -> AssessObligation:
        return AssessObligation(
            obligation_id, form.outcome.data or "", form.comment.data or "",
            bool(form.tell_researcher.data),
        )  # fmt: skip

    done = "The assessment is recorded."
    form = AssessForm(outcomes)
    return _step(
        "lifecycle/assess.html", ref, obligation_id, "assess_obligation", form, command, done
    )
