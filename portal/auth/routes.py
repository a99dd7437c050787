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
from portal.auth.forms import SignInForm, TokenForm
from portal.auth.models import User
from portal.db import get_session
from portal.errors import NotFound, ValidationError

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
