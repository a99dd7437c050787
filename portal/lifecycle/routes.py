"""The pages of an obligation (the researcher reports on it, the Nation owed it assesses
it) and of the end of access (closing early, the destruction attestation and its PDF,
each Nation's answer). Each builds a workflow command; a page opens when available()
offers the step."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.db import get_session, reads_first, writes
from portal.errors import NotFound, Refused, ServiceError, ValidationError
from portal.lifecycle import attestations, downloads
from portal.lifecycle import service as lifecycle
from portal.lifecycle.attestations import PDF
from portal.lifecycle.forms import AnswerForm, AssessForm, AttestForm, CloseForm, ReportForm
from portal.lifecycle.models import Obligation
from portal.policy.access import require_agreement_reader
from portal.registry.models import Nation
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.transparency.ending import end_of_access
from portal.transparency.obligations import report_file as obligation_file
from portal.transparency.overview import overview
from portal.web import attempt, error_page, load, refusal_status
from portal.workflow import AssessObligation, ReportObligation, check
from portal.workflow.commands import AcknowledgeDestruction, AttestDestruction, Close
from portal.workflow.obligations import outcomes_for

bp = Blueprint("lifecycle", __name__, url_prefix="/requests")


def _obligation(req: AccessRequest, obligation_id: int) -> Obligation:
    obligation = lifecycle.find(get_session(), req, obligation_id, lock=False)
    if obligation is None:
        raise NotFound(f"no obligation {obligation_id} on request {req.ref}")
    return obligation


def _page(template: str, req, obligation, status: int = 200, **context):
    view = overview(get_session(), current_user, req, with_timeline=False)
    # As the request page shows it (what the Nation asked in the reader's language).
    shown = next(s for s in view.obligations if s.obligation.id == obligation.id)
    return render_template(template, req=req, view=view, shown=shown, **context), status


def _run(ref: str, page, option_of, form, command_of, done: str, anchor: str, shows=None):
    """Like the review pages' steps: the form, or the step done and back to the request,
    or the form again with what was typed and why it was refused. ``page(req, status,
    **context)`` renders; ``option_of(req)`` raises the refusal when it is not offered;
    ``shows(req)``, if given, fills what the page shows into the form (opened, or shown
    anew after a refusal)."""
    req = load(ref)
    context = {"form": form}
    try:
        context["option"] = option_of(req)
    except Refused as refusal:
        return page(req, 409, refusal=refusal, **context)
    if request.method == "GET":
        if shows is not None:
            shows(req)
        return page(req, 200, **context)
    if not form.validate():
        return page(req, 422, **context)
    outcome = attempt(ref, command_of(form), form)
    if isinstance(outcome, ValidationError):
        form.form_errors += [m for n, m in outcome.errors.items() if not hasattr(form, n)]
        return page(load(ref), refusal_status(outcome), **context)
    if not isinstance(outcome, AccessRequest):
        req = load(ref)
        if shows is not None:  # the page shows the request anew, and why
            shows(req)
        return page(req, refusal_status(outcome), refusal=outcome, **context)
    flash(done, "info")
    return redirect(url_for("requests.show", ref=ref, _anchor=anchor))


def _step(template: str, ref: str, obligation_id: int, action: str, form, command_of, done: str):
    def page(req, status, **context):
        return _page(template, req, _obligation(req, obligation_id), status, **context)

    def option_of(req):
        obligation = _obligation(req, obligation_id)
        return check(get_session(), current_user, req, action, obligation=obligation)

    def shows(req):  # the report an assessment judges (AssessForm)
        form.shows(_obligation(req, obligation_id))

    reads = shows if isinstance(form, AssessForm) else None
    return _run(ref, page, option_of, form, command_of, done, "obligations-h", reads)


@bp.route("/<ref>/obligations/<int:obligation_id>/report", methods=["GET", "POST"])
@login_required
def report(ref: str, obligation_id: int):
    def command(form: ReportForm) -> ReportObligation:
        filename, data = form.content()
        return ReportObligation(obligation_id, form.text.data or "", filename, data)

    done = _("Your report is recorded; the Nation owed it assesses it.")
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
            bool(form.tell_researcher.data), reported_at=form.reported_at.data,
        )  # fmt: skip

    done = _("The assessment is recorded.")
    form = AssessForm(outcomes)
    return _step(
        "lifecycle/assess.html", ref, obligation_id, "assess_obligation", form, command, done
    )


@bp.route("/<ref>/obligations/<int:obligation_id>/file")
@login_required
@writes  # each download is an audit event
def report_file(ref: str, obligation_id: int):
    """The file sent with a report: the researcher's and the owed Nation's (404 else)."""
    filename, media_type, data = obligation_file(
        get_session(), current_user, load(ref), obligation_id
    )
    disposition = f'attachment; filename="{filename}"'
    return Response(data, mimetype=media_type, headers={"Content-Disposition": disposition})


# The end of access (portal/workflow/ending.py): the researcher closes early and attests
# the data's destruction; each Nation acknowledges it or asks for more.
def _end_page(template: str, nation: Nation | None = None, **shown):
    def page(req, status, **context):
        session = get_session()
        view = overview(session, current_user, req, with_timeline=False)
        end = end_of_access(session, current_user, req)
        context = {**shown, **context}
        body = render_template(template, req=req, view=view, end=end, nation=nation, **context)
        return body, status

    return page


def _end_step(
    ref: str, template: str, action: str, form, command_of, done: str, nation=None, **shown
):
    def option_of(req):
        return check(get_session(), current_user, req, action, nation)

    page = _end_page(template, nation, **shown)
    return _run(ref, page, option_of, form, command_of, done, "end-h")


@bp.route("/<ref>/end/close", methods=["GET", "POST"])
@login_required
def close(ref: str):
    done = _("Access ended. Attest the data's destruction for the Nations.")
    command = lambda form: Close(reason=form.reason.data or "")  # noqa: E731
    return _end_step(ref, "lifecycle/close.html", "close", CloseForm(), command, done)


@bp.route("/<ref>/end/attest", methods=["GET", "POST"])
@login_required
@reads_first  # printed and signed outside the write lock; attempt() then checks
def attest(ref: str):
    def command(form: AttestForm) -> AttestDestruction:
        fields = ("what", "method", "done_on", "done_by", "password")
        return AttestDestruction(**{name: getattr(form, name).data or "" for name in fields})

    done = _("Your attestation is signed and with the Nations.")
    form = AttestForm()
    return _end_step(ref, "lifecycle/attest.html", "attest_destruction", form, command, done)


@bp.route("/<ref>/end/answer/<nation_slug>", methods=["GET", "POST"])
@login_required
def answer(ref: str, nation_slug: str):
    nation = get_nation(get_session(), nation_slug)

    def command(form: AnswerForm) -> AcknowledgeDestruction:
        outcome, comment = form.outcome.data or "", form.comment.data or ""
        return AcknowledgeDestruction(nation=nation.slug, outcome=outcome, comment=comment)

    done = _("%(nation)s's answer is recorded.", nation=nation.name)
    action = "acknowledge_destruction"
    template = "lifecycle/answer.html"
    # What is answered, in words beside its PDF (the form shows only to whoever answers).
    attested = attestations.latest(get_session(), load(ref))
    return _end_step(ref, template, action, AnswerForm(), command, done, nation, attested=attested)


@bp.route("/<ref>/attestation.pdf")
@login_required
@writes  # each download is an audit event
def attestation_pdf(ref: str):
    req = load(ref)
    require_agreement_reader(get_session(), current_user, req)
    try:
        filename, data = downloads.download(get_session(), current_user, req)
    except ServiceError as error:  # NotFound (none yet) or the stored file fails
        if isinstance(error, NotFound):
            abort(404)
        return error_page(409, error.message)
    disposition = f'inline; filename="{filename}"'
    return Response(data, mimetype=PDF, headers={"Content-Disposition": disposition})
