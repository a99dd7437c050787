"""Signing in and out, the account page, passwords (forgotten and changed), API tokens.

A session holds, beside flask-login's user id, the account's session version and the
moment of sign-in; ``load_user`` refuses a session whose version moved on (signed out,
new password, deactivated) or that is older than SESSION_ABSOLUTE_LIFETIME.
"""

import segno
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from portal.auth import accounts, service, twofactor
from portal.auth.forms import (
    AcceptForm,
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    DisableTwoFactorForm,
    ForgotPasswordForm,
    NewAccountForm,
    NewPasswordForm,
    SignInForm,
    TokenForm,
)
from portal.auth.models import User
from portal.db import commit_despite_error, get_session, session_scope, utcnow, writes
from portal.errors import Conflict, Forbidden, NotFound, Refused, ValidationError
from portal.notify.service import link
from portal.web import error_page, no_store, safe_next
from portal.workflow import invitations
from portal.workflow.invitations import InvitationUnusable


def N_(message: str) -> str:
    """A message kept in English here and translated where it is shown (``_(X)``):
    marked so the catalogue has it; tests compare the English."""
    return message


bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = N_("Sign in to see this page.")
login_manager.login_message_category = "info"
login_manager.localize_callback = _  # flask-login flashes login_message through it

SIGN_IN_FAILED = N_("That e-mail address and password do not match an active account.")
RESET_SENT = N_(
    "If that address belongs to an active login, a link to set a new password is on its way. "
    "It works once, for one hour."
)

CODE_FAILED = N_("That code does not match. Use the newest code of your app, or a recovery code.")

# What a session holds beside flask-login's "_user_id".
SESSION_VERSION = "session_version"
SIGNED_IN_AT = "signed_in_at"
# A sign-in whose password was right, waiting for its second factor (no session yet).
PENDING_SIGN_IN = "pending_sign_in"
PENDING_SECONDS = 300
# Where a person whose roles require two-factor sign-in may go before setting it up.
OPEN_WHILE_ENROLLING = frozenset({"auth.two_factor", "auth.sign_out", "static"})


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_two_factor_gate)


def _two_factor_gate():
    """Someone who must use two-factor sign-in and has not set it up does nothing else."""
    # The API answers for itself; the health checks and metrics (ops) concern no one.
    if request.endpoint in OPEN_WHILE_ENROLLING or request.blueprint in ("api", "ops"):
        return None
    if not current_user.is_authenticated or current_user.two_factor_enabled:
        return None
    if twofactor.must_set_up(get_session(), current_user):
        return redirect(url_for("auth.two_factor"))
    return None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in person, if this session is still theirs: active, the session
    version they signed in with, and signed in less than the absolute lifetime ago."""
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    signed_in_at = session.get(SIGNED_IN_AT)
    if (
        user is None
        or not user.is_active
        or session.get(SESSION_VERSION) != user.session_version
        or not isinstance(signed_in_at, int | float)
        or utcnow().timestamp() - signed_in_at > current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    ):
        session.clear()  # the cookie is worth nothing now: send back an empty one
        return None
    return user


def _establish(user: User, method: str) -> None:
    """Start a session for ``user``: a fresh one, nothing planted before it survives."""
    session.clear()
    login_user(user)
    session.permanent = True
    session[SESSION_VERSION] = user.session_version
    session[SIGNED_IN_AT] = utcnow().timestamp()
    accounts.record_sign_in(get_session(), user, method)


def _record_failure(email: str, stage: str) -> None:
    """A failed sign-in is answered 401, yet its audit event is kept; nothing else of
    the request is."""
    db = get_session()
    db.rollback()
    accounts.record_failed_sign_in(db, email, stage)
    commit_despite_error()


def _private(page, status: int = 200):
    """A page with a secret in it or its address: not cached, no Referer sent on."""
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    if form.validate_on_submit():
        user = service.authenticate(get_session(), form.email.data, form.password.data)
        if user is None:
            _record_failure(form.email.data, "password")
            form.password.errors.append(_(SIGN_IN_FAILED))
            form.password.data = ""
            return render_template("auth/sign_in.html", form=form), 401
        target = safe_next(request.args.get("next"))
        if user.two_factor_enabled:  # the session starts only once the code is right
            session.clear()
            session[PENDING_SIGN_IN] = {
                "user_id": user.id,
                "email": user.email,
                "version": user.session_version,
                "at": utcnow().timestamp(),
                "next": target,
            }
            return redirect(url_for("auth.sign_in_code"))
        _establish(user, "password")
        if twofactor.must_set_up(get_session(), user):
            return redirect(url_for("auth.two_factor"))
        return redirect(target)
    return render_template("auth/sign_in.html", form=form)


def _pending_user() -> tuple[User, dict] | tuple[None, None]:
    """The person whose password was right a moment ago, if it is still them."""
    pending = session.get(PENDING_SIGN_IN)
    if not isinstance(pending, dict) or not str(pending.get("user_id", "")).isdigit():
        return None, None
    user = get_session().get(User, int(pending["user_id"]))
    age = utcnow().timestamp() - float(pending.get("at") or 0)
    if (
        user is None
        or not user.is_active
        or not user.two_factor_enabled
        or user.session_version != pending.get("version")
        or not 0 <= age <= PENDING_SECONDS
    ):
        return None, None
    return user, pending


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code():
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING_SIGN_IN, None)
        flash(_("Sign in again: give your e-mail address and password first."), "info")
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        method = twofactor.check_code(get_session(), user, form.code.data)
        if method is None:
            _record_failure(user.email, "code")
            form.code.errors.append(_(CODE_FAILED))
            form.code.data = ""
            return render_template("auth/sign_in_code.html", form=form), 401
        _establish(user, method)
        if method == twofactor.RECOVERY:
            left = twofactor.remaining_recovery_codes(get_session(), user)
            flash(_("You used a recovery code: %(left)s are left.", left=left), "info")
        return redirect(pending["next"])
    return render_template("auth/sign_in_code.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    # Every session of this person ends on the server: the old cookie is worth nothing.
    accounts.sign_out(get_session(), current_user)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"))


# --- forgotten passwords -----------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(
            get_session(),
            form.email.data,
            # Under PORTAL_URL, never the request's Host header: a forged Host would
            # mail the reset link to a site of the forger's (found in a probe).
            lambda token: link("auth.reset_password", token=token),
        )
        # The same answer whether or not the address is an account's.
        return render_template("auth/forgot_password.html", form=form, sent=True)
    return render_template("auth/forgot_password.html", form=form, sent=False)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    db = get_session()
    if accounts.reset_link_user(db, token) is None:
        return _private(render_template("auth/reset_password.html", form=None), 404)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db, token, form.new_password.data)
        except ValidationError as error:
            form.new_password.errors = [error.errors.get("password", error.message)]
            return _private(render_template("auth/reset_password.html", form=form), 422)
        logout_user()
        session.clear()
        flash(
            _(
                "Your new password is set: every session of yours has ended, and every "
                "API token of yours is revoked. Sign in."
            ),
            "info",
        )
        return redirect(url_for("auth.sign_in"))
    status = 422 if request.method == "POST" else 200
    return _private(render_template("auth/reset_password.html", form=form), status)


# --- the account page ----------------------------------------------------------------------


def _account_page(password_form=None, status: int = 200, **context):
    page = render_template(
        "auth/account.html",
        password_form=password_form or ChangePasswordForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        **{**_two_factor_context(), **context},
    )
    return make_response(page, status)


def _two_factor_context() -> dict:
    db = get_session()
    enabled = current_user.two_factor_enabled
    return {
        "two_factor_enabled": enabled,
        "two_factor_required": twofactor.two_factor_required(db, current_user),
        "recovery_codes_left": twofactor.remaining_recovery_codes(db, current_user)
        if enabled
        else 0,
        "disable_form": DisableTwoFactorForm(formdata=None),
    }


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@writes  # the first view keeps the secret it shows (begin_setup)
def two_factor():
    """Set up two-factor sign-in: scan the QR code (or type the secret), give a code."""
    if current_user.two_factor_enabled:
        return redirect(url_for("auth.account"))
    db = get_session()
    secret = twofactor.begin_setup(db, current_user)
    form = CodeForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                codes = twofactor.confirm_setup(db, current_user, form.code.data)
            except ValidationError as error:
                form.code.errors = [error.errors["code"]]
            else:
                page = render_template("auth/recovery_codes.html", codes=codes)
                return _private(page)
        status = 422
    uri = twofactor.provisioning_uri(current_user, secret)
    page = render_template(
        "auth/two_factor.html",
        form=form,
        secret=secret,
        qr_code=segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
        required=twofactor.two_factor_required(db, current_user),
    )
    return _private(page, status)


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
def disable_two_factor():
    form = DisableTwoFactorForm()
    if not form.validate():
        return _account_page(status=422, disable_form=form)
    try:
        twofactor.disable(get_session(), current_user, form.password.data)
    except Forbidden:
        abort(403)
    except ValidationError as error:
        form.password.errors = [error.errors.get("password", error.message)]
        return _account_page(status=422, disable_form=form)
    flash(_("Two-factor sign-in is off: your password alone signs you in."), "info")
    return redirect(url_for("auth.account"))


@bp.route("/account")
@login_required
def account():
    return _account_page()


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate():
        return _account_page(form, 422)
    try:
        version = accounts.change_password(
            get_session(), current_user, form.current_password.data, form.new_password.data
        )
    except ValidationError as error:
        for name, message in error.errors.items():
            field = form.current_password if name == "current_password" else form.new_password
            field.errors = [message]
        return _account_page(form, 422)
    session[SESSION_VERSION] = version  # this session goes on; every other one has ended
    flash(
        _(
            "Your password is changed. Every other session of yours has ended, and every "
            "API token of yours is revoked."
        ),
        "info",
    )
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def end_other_sessions():
    if not ConfirmForm().validate():
        abort(400)
    session[SESSION_VERSION] = accounts.end_other_sessions(get_session(), current_user)
    flash(
        _(
            "Every other session of yours has ended, and every API token of yours is "
            "revoked: only this one is signed in."
        ),
        "info",
    )
    return redirect(url_for("auth.account"))


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
    flash(_("The token “%(name)s” is revoked: it no longer works.", name=record.name), "info")
    return redirect(url_for("auth.tokens"))


# --- invitations: the link a person was mailed, and withdrawing one --------------------

INVALID_LINK = N_(
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
        return error_page(404, _(INVALID_LINK))
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
        flash(_("Invitation accepted: you are now %(role)s.", role=words), "success")
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
                _(
                    "Your login is ready. Sign in with your e-mail address and the password "
                    "you chose."
                ),
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
    flash(
        _("The invitation to %(email)s is revoked: its link no longer works.", email=revoked.email),
        "info",
    )
    nation = invitations.nation_of(session, revoked)
    if revoked.authority == "invite_member" and nation is not None:
        return redirect(url_for("registry.invitations", slug=nation.slug))
    return redirect(url_for("admin.invitations"))
