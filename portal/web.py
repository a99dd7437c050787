"""What every page shares: CSRF protection, security headers, error pages, the
signed-in person's roles in the layout, and the one way a page performs a workflow
command and shows its refusal."""

from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from wtforms import BooleanField
from wtforms.validators import DataRequired

from portal.api import problems
from portal.audit.service import client_address_var
from portal.auth.service import roles_of
from portal.db import get_session, start_writing
from portal.errors import Conflict, Forbidden, NotFound, Refused, ServiceError, ValidationError
from portal.notify.service import link
from portal.policy.access import get_visible
from portal.policy.service import authorize
from portal.policy.vocabulary import Action, action_name
from portal.registry.labels import labels_of
from portal.registry.names import names_html
from portal.requests.fields import member_words
from portal.requests.models import AccessRequest
from portal.transparency.overview import overview
from portal.transparency.rulebook import may_read_rules
from portal.transparency.words import action_words, recommendation_words, waited
from portal.workflow import Command, invitations, perform, perform_ahead

csrf = CSRFProtect()

# Everything the pages use is served by the portal itself: no CDN, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The portal could not understand what was sent.")),
    409: (_l("Cannot be done now"), _l("This cannot be done in the state things are in.")),
    403: (_l("Not allowed"), _l("Your roles do not allow this.")),
    404: (_l("Not found"), _l("There is nothing here, or nothing you may see.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("What was sent is larger than the portal accepts.")),
    429: (
        _l("Too many attempts"),
        _l(
            "There were too many attempts from here or for this account. "
            "Wait a while, then try again."
        ),
    ),
    503: (_l("Not ready yet"), _l("This page is not ready yet. Try again in a minute.")),
    500: (
        _l("Something went wrong"),
        _l(
            "The portal hit an error; nothing you did was saved. Try again, "
            "and tell the portal's administrators if it happens again."
        ),
    ),
}
# What to do about it, in words true for whoever reads the page (a coordinator is never
# told to ask a coordinator): who gives roles is the same for everyone.
ERROR_ADVICE = {
    403: _l(
        "The portal's administrators give portal-wide roles, and each Nation's "
        "representatives give its own roles. If you think yours should allow this, ask them."
    ),
}


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.after_request(_security_headers)
    app.before_request(_remember_client_address)
    app.before_request(_refuse_nul_bytes)
    app.context_processor(_layout_context)
    app.add_template_filter(_field_value, "fieldvalue")
    app.add_template_global(form_problems)
    app.add_template_filter(action_words, "event_words")
    app.add_template_filter(waited, "waited")
    app.add_template_filter(recommendation_words, "recommendation_words")
    app.add_template_filter(member_words, "member")  # a team member, one way everywhere
    app.add_template_filter(names_html, "names")  # a Nation's or dataset's names, one place
    app.add_template_global(_labels_on, "labels_on")
    app.add_template_global(action_name, "action_name")  # a policy action as a verb
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotFound, lambda error: error_page(404))
    app.register_error_handler(Forbidden, _forbidden)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)


def _remember_client_address() -> None:
    # Behind proxies, PORTAL_TRUSTED_PROXIES (ProxyFix, portal/ops.py) makes it the client's.
    client_address_var.set(request.remote_addr)


NUL_REFUSED = _l(
    "What was sent contains a NUL character, which no field of the portal accepts. "
    "Nothing was saved; remove it and send it again."
)


def _refuse_nul_bytes():
    """No text the portal keeps may hold a NUL (PostgreSQL cannot store one): refuse it
    here, once for every page's form fields, query string and path, before any handler
    reads them. The API checks its own input (bodies 422, references 404, as its
    document says) and is left to do so."""
    if problems.is_api_request():
        return None
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in FORM_TYPES:
        values += [*request.form.keys(), *request.form.values()]
    if any("\x00" in value for value in values):
        return error_page(400, str(NUL_REFUSED))
    return None


FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # Cookies only go over HTTPS, so the site is only used over HTTPS: say so.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if _personal(response):
        # What a signed-in person (or a token's holder) reads is theirs: no shared or
        # browser cache keeps it (agreements, record exports and pages alike).
        response.headers["Cache-Control"] = "no-store"
    return response


HSTS = "max-age=31536000"


def _personal(response: Response) -> bool:
    if request.endpoint == "static":
        return False
    # The session's user id, not current_user: no database read after a failed request.
    return "_user_id" in cookie_session or "Authorization" in request.headers


def _layout_context() -> dict:
    """The signed-in person's roles, the Nations whose profile they may manage, whose
    record they may read and whose members they may invite, and whether they may see
    the coordinators' dashboard, the administration pages, the rules and their changes."""
    # Mail is rendered outside any web request: nobody is signed in there.
    if not has_request_context() or not current_user.is_authenticated:
        return {
            "current_roles": [],
            "governed_nations": [],
            "record_nations": [],
            "may_view_dashboard": False,
            "may_manage_users": False,
            "may_manage_registry": False,
            "may_manage_jobs": False,
            "may_invite": False,
            "inviting_nations": [],
            "may_read_rules": False,
            "may_govern_rules": False,
            "may_view_deliveries": False,
        }
    session = get_session()
    roles = roles_of(session, current_user)
    nations = {nation.slug: nation for _role, nation in roles if nation}

    def allowed(action: Action, nation=None) -> bool:
        return authorize(session, current_user, action, nation=nation).allowed

    return {
        "current_roles": roles,
        "governed_nations": [n for n in nations.values() if allowed(Action.MANAGE_PROFILE, n)],
        "record_nations": [n for n in nations.values() if allowed(Action.VIEW_RECORD, n)],
        "may_view_dashboard": allowed(Action.VIEW_DASHBOARD),
        "may_manage_users": allowed(Action.MANAGE_USERS),
        "may_manage_registry": allowed(Action.MANAGE_REGISTRY),
        "may_manage_jobs": allowed(Action.MANAGE_JOBS),
        "may_invite": allowed(Action.INVITE),
        "inviting_nations": [n for n in nations.values() if allowed(Action.INVITE_MEMBER, n)],
        "may_read_rules": may_read_rules(session, current_user),
        # Those who propose or answer changes to the portal-wide rules reach them here.
        "may_govern_rules": allowed(Action.PROPOSE_RULES)
        or any(
            allowed(action, n)
            for n in nations.values()
            for action in (Action.PROPOSE_RULES, Action.VOTE_ON_RULES)
        ),
        # The custodians' delivery log: portal-wide, or for one's Nations' datasets.
        "may_view_deliveries": allowed(Action.VIEW_DELIVERIES)
        or any(allowed(Action.VIEW_DELIVERIES, n) for n in nations.values()),
    }


def _field_value(value) -> str:
    """A request field as a person reads it (lists of slugs, team members, numbers)."""
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return "; ".join(member_words(v) if isinstance(v, dict) else str(v) for v in value)
    return str(value)


# Fields drawn as a list of options: the summary links to the first option's input.
OPTION_LISTS = {"RadioField", "CheckboxesField", "SelectMultipleField"}


def form_problems(*forms) -> list[tuple[str | None, str]]:
    """Every error of ``forms`` as (the id to link to, the message), in the order of the
    page, for its error summary; errors of no one field have no link."""
    problems = []
    for form in forms:
        for field in form:
            if field.type == "CSRFTokenField":
                continue  # a bad token never reaches the page: CSRFProtect answers 400
            anchor = f"{field.id}-0" if field.type in OPTION_LISTS else field.id
            problems += [(anchor, str(m)) for m in field.errors if isinstance(m, str | LazyString)]
        problems += [(None, str(message)) for message in form.form_errors]
    return problems


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    title, text = ERROR_TEXTS.get(status, ERROR_TEXTS[400 if status < 500 else 500])
    advice = ERROR_ADVICE.get(status)
    return render_template(
        "errors/error.html",
        status=status,
        title=str(title),
        text=str(detail or text),
        advice=str(advice) if advice else None,
    ), status


def _forbidden(error: Forbidden) -> tuple[str, int]:
    return error_page(403, error.message)


def load(ref: str) -> AccessRequest:
    """The request ``ref`` for the signed-in person; 404 if they may not know of it."""
    return get_visible(get_session(), current_user, ref)


def attempt(ref: str, command: Command, form=None) -> AccessRequest | ServiceError:
    """Perform ``command`` for the signed-in person: the request as it now stands, or the
    refusal to show (the caller renders its page with it; the status from
    ``refusal_status``, which rolls the transaction back). Field errors go onto
    ``form``'s fields. NotFound and Forbidden go to the app's 404 and 403 pages.
    A command with a slow part (signing) does it first, outside the write lock when
    the view is @reads_first."""
    session = get_session()
    try:
        command = perform_ahead(session, current_user, ref, command)
        start_writing(session)
        return perform(session, current_user, ref, command)
    except (Refused, ValidationError) as refusal:
        if isinstance(refusal, ValidationError) and form is not None:
            for name, message in refusal.errors.items():
                if (field := getattr(form, name, None)) is not None:
                    field.errors = [message]
        return refusal


def refusal_status(refusal: ServiceError) -> int:
    """422 for bad input, 409 for a refused step; either way nothing is kept."""
    return 422 if isinstance(refusal, ValidationError) else 409


def show_refusal(ref: str, refusal: ServiceError, **context):
    """The request page again, with why the action was refused; nothing was written."""
    req = load(ref)
    view = overview(get_session(), current_user, req)
    page = render_template("requests/show.html", req=req, view=view, refusal=refusal, **context)
    return page, refusal_status(refusal)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return error_page(
        400,
        _(
            "The form could not be accepted: it expired or did not come from this site. "
            "Go back, reload the page and send it again."
        ),
    )


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    if error.code is None or error.code < 400:
        return error  # redirects raised as exceptions pass through untouched
    if problems.is_api_request():  # e.g. no such route under /api/v1: problem+json too
        return problems.from_http_exception(error)
    return error_page(error.code)


def _server_error(error: Exception) -> Response | tuple[str, int]:
    if problems.is_api_request():
        return problems.from_exception(error)
    current_app.logger.exception("unhandled error", exc_info=error)
    return error_page(500)


# --- invitations: the admin's and a Nation's pages make them alike ----------------------


def invitation_link(token: str) -> str:
    """Under PORTAL_URL, never the request's Host header (a forged one would send the
    invitee to the forger's site)."""
    return link("auth.invitation", token=token)


def send_invitation(form, nation) -> str | None:
    """Invite as the signed-in person from ``form`` (email, role) for ``nation`` (or
    portal-wide): the link's token, shown once, or None with the errors on the form.
    Forbidden goes to the app's 403 page."""
    try:
        token, _invitation = invitations.invite(
            get_session(),
            current_user,
            form.email.data or "",
            form.role.data or "",
            nation,
            link_for=invitation_link,
        )
    except ValidationError as error:
        for name, message in error.errors.items():
            field = getattr(form, name, None) or form.email
            field.errors = [*field.errors, message]
        return None
    except (Conflict, Refused) as error:
        field = form.nation if nation is not None and hasattr(form, "nation") else form.email
        field.errors = [*field.errors, error.message]
        return None
    return token


def no_store(response: Response) -> Response:
    """A page with something shown once (a token, a link): never kept by a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def uploaded(field) -> tuple[str, bytes]:
    """A form's file field as (its name, its bytes); ("", b"") when none was chosen."""
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        return "", b""
    return upload.filename, upload.read()


def access_ends_confirmation() -> BooleanField:
    """The box a person ticks before a step that ends access at once for good (revoking,
    ending access early): one label and one refusal for every such page, refused on
    its field when unticked, before anything is tried."""
    return BooleanField(
        _l(
            "I understand that access ends at once and cannot be restored: a new request "
            "would be needed."
        ),
        validators=[DataRequired(_l("Confirm that access ends at once."))],
    )


def _labels_on(datasets: list) -> dict[int, list]:
    """The TK and BC Labels on these datasets (a request's), for the pages that list them."""
    return labels_of(get_session(), [dataset.id for dataset in datasets])


def safe_next(target: str | None) -> str:
    """Only a path on this site: never send someone elsewhere after signing in."""
    # A control character (a CR or LF above all) would break the Location header or
    # smuggle one in; "//host" and "/\\host" are other sites to a browser.
    if not target or not target.isprintable() or " " in target or "\\" in target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.home")
    return target
