"""Sign-in and sign-out pages."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from portal.auth import service
from portal.auth.forms import AcceptForm, NewAccountForm, SignInForm, TokenForm
from portal.auth.models import User
from portal.db import get_session, session_scope
from portal.errors import Conflict, NotFound, Refused, ValidationError
from portal.web import error_page, no_store
from portal.workflow import invitations
from portal.workflow.invitations import InvitationUnusable

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to see this page."
login_manager.login_message_category = "info"

SIGN_IN_FAILED = "That e-mail address and password do not match an active account."


def init_app(app: Flask) -> None:
    login_manager.init_app(app)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    return user if user is not None and user.is_active else None


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send someone elsewhere after signing in."""
    # A control character (a CR or LF above all) would break the Location header or
    # smuggle one in; "//host" and "/\\host" are other sites to a browser.
    if not target or not target.isprintable() or " " in target or "\\" in target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.home")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    if form.validate_on_submit():
        user = service.authenticate(get_session(), form.email.data, form.password.data)
        if user is not None:
            # A fresh session at sign-in: nothing planted before it survives (fixation).
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(SIGN_IN_FAILED)
        form.password.data = ""
        return render_template("auth/sign_in.html", form=form), 401
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.sign_in"))


# --- API tokens: each person creates, names and revokes their own ----------------------


def _tokens_page(form: TokenForm, new_token: str | None = None, status: int = 200):
    tokens = service.live_tokens_of(get_session(), current_user)
    page = render_template(
        "auth/tokens.html",
        form=form,
        tokens=tokens,
        new_token=new_token,
    )
    response = make_response(page, status)
    if new_token:  # shown once: never kept by a cache or the browser's history
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    if request.method == "GET" or not form.validate():
        return _tokens_page(form)
    try:
        token, _record = service.create_api_token(
            get_session(), current_user, form.name.data or "", actor=current_user
        )
    except ValidationError as error:
        form.name.errors = [error.errors.get("name", error.message)]
        return _tokens_page(form, status=422)
    # The token itself is in this one page and nowhere else (not in the session cookie).
    return _tokens_page(TokenForm(formdata=None), new_token=token)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    # The form's CSRF token is checked by CSRFProtect, as on every page.
    try:
        record = service.revoke_api_token(get_session(), current_user, token_id)
    except NotFound:
        abort(404)
    flash(f"The token “{record.name}” is revoked: it no longer works.", "info")
    return redirect(url_for("auth.tokens"))


# --- invitations: the link a person was mailed, and withdrawing one --------------------

INVALID_LINK = (
    "This invitation link is not valid. Check that the whole link was copied from the "
    "message, or ask the person who invited you for a new one."
)


def _unusable(invitation_id: int, refusal: InvitationUnusable):
    """A link that no longer works: a clear page (410), and the record notes the try.
    The page's own transaction is rolled back (an error status), so the note is written
    in one of its own."""
    get_session().rollback()
    with session_scope() as own:
        invitations.record_refused_use(own, invitation_id, refusal.reason)
    return render_template("auth/invitation_unusable.html", message=refusal.message), 410


def _invitation_page(invitation, form, status: int = 200, **context):
    session = get_session()
    page = render_template(
        "auth/invitation.html",
        invitation=invitation,
        nation=invitations.nation_of(session, invitation),
        inviter=invitations.inviter_of(session, invitation),
        role_words=invitations.role_words(
            invitation.role, invitations.nation_of(session, invitation)
        ),
        form=form,
        **context,
    )
    return no_store(make_response(page, status))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    session = get_session()
    try:
        found = invitations.find(session, token)
        invitations.check_usable(found)
    except NotFound:
        return error_page(404, INVALID_LINK)
    except InvitationUnusable as refusal:
        return _unusable(found.id, refusal)
    if current_user.is_authenticated:
        if current_user.email != found.email:
            return _invitation_page(found, None, 403, other_account=True)
        form = AcceptForm()
        if not form.validate_on_submit():
            return _invitation_page(found, form, 422 if request.method == "POST" else 200)
        try:
            invitations.accept_as(session, current_user, token)
        except Refused as refusal:
            return _invitation_page(found, form, 409, refusal=refusal.message)
        words = invitations.role_words(found.role, invitations.nation_of(session, found))
        flash(f"Invitation accepted: you are now {words}.", "success")
        return redirect(url_for("main.home"))
    if service.find_user(session, found.email) is not None:
        return _invitation_page(found, None, 200 if request.method == "GET" else 409, sign_in=True)
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            invitations.accept_as_new(session, token, form.name.data, form.password.data)
        except ValidationError as error:
            for name, message in error.errors.items():
                getattr(form, name, form.password).errors.append(message)
        except Conflict:
            return _invitation_page(found, None, 409, sign_in=True)
        except Refused as refusal:
            return _invitation_page(found, form, 409, refusal=refusal.message)
        else:
            flash(
                "Your login is ready. Sign in with your e-mail address and the password you chose.",
                "success",
            )
            return redirect(url_for("auth.sign_in", email=found.email))
    form.password.data = form.confirm.data = ""
    status = 422 if request.method == "POST" else 200
    return _invitation_page(found, form, status)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(invitation_id: int):
    # The form's CSRF token is checked by CSRFProtect, as on every page.
    session = get_session()
    try:
        revoked = invitations.revoke(session, current_user, invitation_id)
    except NotFound:
        abort(404)
    except Refused as refusal:
        return error_page(409, refusal.message)
    flash(f"The invitation to {revoked.email} is revoked: its link no longer works.", "info")
    nation = invitations.nation_of(session, revoked)
    if revoked.authority == "invite_member" and nation is not None:
        return redirect(url_for("registry.invitations", slug=nation.slug))
    return redirect(url_for("admin.invitations"))
