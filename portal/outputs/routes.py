"""Pages of outputs before publication: the researcher submits one (and may first check
a CSV's small cells); the output's page shows its findings, its Nations' parts (reviews
to each Nation's own people only), and the forms of whoever may review or decide."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.db import get_session, writes
from portal.errors import NotFound, Refused, ValidationError
from portal.lifecycle.outputs import content
from portal.lifecycle.outputs import service as outputs
from portal.outputs.forms import OutputDecisionForm, OutputReviewForm, SubmitOutputForm
from portal.registry.models import Nation
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.transparency import outputs as output_view
from portal.web import attempt, load, refusal_status, show_refusal
from portal.workflow import check
from portal.workflow.commands import DecideOutput, ReviewOutput, SubmitOutput
from portal.workflow.offers import may_do

bp = Blueprint("outputs", __name__, url_prefix="/requests")


def _nation(slug: str) -> Nation:
    try:
        return get_nation(get_session(), slug)
    except NotFound:
        raise NotFound(f"no Nation {slug!r}") from None


def _checked(req: AccessRequest, name: str, data: bytes) -> list[tuple[Nation, dict]]:
    """What each Nation that would review the file finds in it (no write)."""
    session = get_session()
    media_type = content.media_type(data, name)
    return [
        (nation, outputs.findings(media_type, data, nation.small_cell_threshold))
        for nation, _ in outputs.asking_nations(session, req)
    ]


@bp.route("/<ref>/outputs/new", methods=["GET", "POST"])
@login_required
def new(ref: str):
    req, form = load(ref), SubmitOutputForm()
    page = {"req": req, "form": form, "asking": outputs.asking_nations(get_session(), req)}
    try:
        check(get_session(), current_user, req, "submit_output")
    except Refused as refusal:
        return render_template("outputs/new.html", refusal=refusal, **page), 409
    if request.method == "GET":
        return render_template("outputs/new.html", **page)
    name, data = form.content()
    if not form.validate():
        return render_template("outputs/new.html", **page), 422
    if request.form.get("intent") == "check":  # findings only: nothing is kept
        try:
            page["checked"] = _checked(req, name, data)
        except ValidationError as error:
            form.file.errors = [error.errors["file"]]
            return render_template("outputs/new.html", **page), 422
        return render_template("outputs/new.html", **page)
    command = SubmitOutput(form.title.data or "", form.venue.data or "", name, data)
    outcome = attempt(ref, command, form)
    if isinstance(outcome, ValidationError):  # the file's name is no field: said at the top
        form.form_errors.extend(m for name, m in outcome.errors.items() if name not in form)
    if not isinstance(outcome, AccessRequest):
        status = refusal_status(outcome)
        return render_template("outputs/new.html", refusal=outcome, **page), status
    flash(_("The output is submitted."), "info")
    return redirect(url_for("requests.show", ref=ref) + "#outputs-h")


def _show(ref: str, output_id: int, status: int = 200, **forms):
    req = load(ref)
    session = get_session()
    seen = output_view.output_seen(session, current_user, req, output_id)
    # What the reader may do on this output, for each of its Nations (the outcome the
    # probe names is refusal: approval's quorum is for the form to be told).
    commands = {
        "review_output": lambda n: ReviewOutput(output_id, n.slug),
        "decide_output": lambda n: DecideOutput(output_id, n.slug, "refuse"),
    }
    offers = {
        action: {
            part.nation.id
            for part in seen.parts
            if may_do(session, current_user, req, command(part.nation), part.nation)
        }
        for action, command in commands.items()
    }
    forms.setdefault("review_form", OutputReviewForm(formdata=None))
    forms.setdefault("decision_form", OutputDecisionForm(formdata=None))
    page = render_template("outputs/show.html", req=req, seen=seen, offers=offers, **forms)
    return page, status


@bp.route("/<ref>/outputs/<int:output_id>")
@login_required
def show(ref: str, output_id: int):
    return _show(ref, output_id)


def _act(ref: str, output_id: int, form, command, **forms):
    if not form.validate():
        return _show(ref, output_id, 422, **forms)
    outcome = attempt(ref, command(), form)
    if isinstance(outcome, Refused):
        return show_refusal(ref, outcome)
    if isinstance(outcome, ValidationError):
        return _show(ref, output_id, refusal_status(outcome), refusal=outcome, **forms)
    flash(_("Recorded."), "info")
    return redirect(url_for("outputs.show", ref=ref, output_id=output_id))


@bp.route("/<ref>/outputs/<int:output_id>/review/<nation_slug>", methods=["POST"])
@login_required
def review(ref: str, output_id: int, nation_slug: str):
    nation, form = _nation(nation_slug), OutputReviewForm()

    def command() -> ReviewOutput:
        return ReviewOutput(
            output_id,
            nation.slug,
            form.recommendation.data or None,
            form.comment.data or "",
            form.conflict_of_interest.data,
        )

    return _act(ref, output_id, form, command, review_form=form, nation=nation)


@bp.route("/<ref>/outputs/<int:output_id>/decide/<nation_slug>", methods=["POST"])
@login_required
def decide(ref: str, output_id: int, nation_slug: str):
    nation, form = _nation(nation_slug), OutputDecisionForm()

    def command() -> DecideOutput:
        return DecideOutput(output_id, nation.slug, form.outcome.data or "", form.reason.data or "")

    return _act(ref, output_id, form, command, decision_form=form, nation=nation)


@bp.route("/<ref>/outputs/<int:output_id>/file")
@login_required
@writes  # each download is an audit event
def download(ref: str, output_id: int):
    filename, media_type, data = output_view.download(
        get_session(), current_user, load(ref), output_id
    )
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{content.safe_filename(filename)}"'
    )
    return response
