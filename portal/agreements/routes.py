"""Pages: download an agreement, sign it, and verify a PDF (no sign-in needed)."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import HiddenField, PasswordField

from portal.agreements import downloads, editions, render
from portal.agreements.models import AgreementStatus
from portal.agreements.verify import verify_pdf
from portal.db import get_session, reads_first, writes
from portal.errors import NotFound, ServiceError
from portal.policy.access import require_agreement_reader
from portal.requests.models import AccessRequest
from portal.web import attempt, error_page, load, show_refusal
from portal.webforms import PageForm
from portal.workflow import Sign

bp = Blueprint("agreements", __name__)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
STORED_FILE_FAILS = _l(
    "The stored agreement file fails its integrity check, so it is not served; "
    "an administrator has been told. Nothing was recorded."
)


class SignForm(PageForm):
    password = PasswordField(_l("Your password, to confirm it is you"))
    nation = HiddenField()


class VerifyForm(PageForm):
    document = FileField(
        _l("The agreement (PDF)"),
        validators=[
            FileRequired(_l("Choose a PDF file.")),
            FileSize(MAX_UPLOAD_BYTES, message=_l("The file is larger than 10 MB.")),
        ],
    )


@bp.route("/requests/<ref>/agreement.pdf")
@login_required
@writes  # each download is an audit event
def download(ref: str):
    req = load(ref)
    number = request.args.get("edition", type=int)  # an earlier or pending edition
    try:
        agreement = downloads.edition(get_session(), req, number) if number else None
    except NotFound:
        abort(404)
    require_agreement_reader(get_session(), current_user, req, agreement)  # 403
    language = request.args.get("lang") or None
    try:
        filename, data = downloads.download(get_session(), current_user, req, language, number)
    except downloads.NoReadingCopy:
        return error_page(
            404,
            _(
                "Agreement %(ref)s is signed in English and French side by side: it has no "
                "reading copy. Read the signed agreement on the request's page.",
                ref=req.ref,
            ),
        )
    except NotFound:
        abort(404)
    except ServiceError as error:  # the stored file is missing or was changed
        current_app.logger.error("agreement of %s not served: %s", req.ref, error.message)
        return error_page(409, STORED_FILE_FAILS)
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


@bp.route("/requests/<ref>/sign", methods=["POST"])
@login_required
@reads_first  # signs outside the write lock; attempt() then checks nothing changed
def sign(ref: str):
    form = SignForm()
    if not form.validate():
        abort(400)
    command = Sign(password=form.password.data or "", nation=form.nation.data or None)
    outcome = attempt(ref, command)
    if not isinstance(outcome, AccessRequest):
        return show_refusal(ref, outcome, sign_error=outcome)
    flash(_signed(outcome), "info")
    return redirect(url_for("requests.show", ref=ref))


def _signed(req: AccessRequest) -> str:
    """What a signer reads after signing: the edition they signed (the one still to sign,
    else the one that took effect) is in force once its last party signed, and not
    before, whatever the request's status (it stays active during an amendment)."""
    edition = editions.to_sign(get_session(), req)
    complete = edition is not None and edition.status == AgreementStatus.ACTIVE
    if edition is None or edition.edition == 1:
        if complete:
            return _("Signed. Every party has signed: access is active.")
        return _("Signed. The agreement waits for the other parties.")
    if complete:
        number = edition.edition
        return _("Signed. Every party has signed: edition %(number)s is in force.", number=number)
    return _("Signed. Edition %(number)s waits for the other parties.", number=edition.edition)


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    if request.method == "GET" or not form.validate():
        status = 422 if request.method == "POST" else 200
        return render_template("agreements/verify.html", form=form, result=None), status
    data = form.document.data.read(MAX_UPLOAD_BYTES + 1)
    result = verify_pdf(get_session(), data)
    page = render_template(
        "agreements/verify.html", form=form, result=result, languages=render.LANGUAGES
    )
    return page, 422 if result.uncheckable else 200
