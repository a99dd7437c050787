"""Sign-in and sign-out pages."""

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from portal.auth import service
from portal.auth.forms import SignInForm
from portal.auth.models import User
from portal.db import get_session

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
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("main.home")


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
