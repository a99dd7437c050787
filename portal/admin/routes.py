"""The administrators' pages: people and their portal-wide roles, invitations, and the
registry (Nations, datasets). Every step asks the policy (manage_users, invite,
manage_registry) in portal/workflow; nothing here looks at a role's name."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import Session

from portal.admin.forms import (
    PORTAL_ROLE_CHOICES,
    ActiveForm,
    DatasetForm,
    EndpointForm,
    NationForm,
    NewDatasetForm,
    RetryForm,
    RevokeRoleForm,
    RoleForm,
    SearchForm,
    own_names,
)
from portal.auth.forms import InvitationForm
from portal.auth.models import User
from portal.auth.service import live_tokens_of, roles_of
from portal.db import after_commit, get_session, utcnow
from portal.errors import Conflict, NotFound, Refused, ValidationError
from portal.jobs.runner import everything_failed, mark_retried
from portal.notify.service import retry as retry_message
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.registry.names import NAME_FIELDS
from portal.registry.service import get_dataset, get_nation, nations_of
from portal.requests.forms import options
from portal.web import error_page, invitation_link, no_store, send_invitation
from portal.workflow import administration, deliveries, invitations

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _errors_onto(form, error: ValidationError, default: str) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None) or getattr(form, default)
        field.errors = [*field.errors, message]


def _status(*forms) -> int:
    # Field errors, not form.errors: WTForms caches that before the service's are added.
    return 422 if any(field.errors for form in forms for field in form) else 200


# --- people ----------------------------------------------------------------------------


@bp.route("/people")
@login_required
def people():
    form = SearchForm(request.args)
    after = request.args.get("after")
    try:
        found = administration.people(get_session(), current_user, form.q.data or "", after)
    except ValidationError as error:
        return error_page(400, error.message)
    return render_template(
        "admin/people.html", form=form, rows=found.rows, next_cursor=found.next_cursor
    )


def _person_page(session: Session, user: User, role_form=None, active_form=None):
    role_form = role_form or RoleForm(formdata=None)
    active_form = active_form or ActiveForm(formdata=None)
    page = render_template(
        "admin/person.html",
        person=user,
        roles=roles_of(session, user),
        role_form=role_form,
        active_form=active_form,
        tokens=len(live_tokens_of(session, user)),
    )
    return page, _status(role_form, active_form)


@bp.route("/people/<int:user_id>")
@login_required
def person(user_id: int):
    session = get_session()
    return _person_page(session, administration.person(session, current_user, user_id))


@bp.route("/people/<int:user_id>/roles", methods=["POST"])
@login_required
def grant(user_id: int):
    session = get_session()
    user = administration.person(session, current_user, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            granted = administration.grant_portal_role(session, current_user, user, form.role.data)
        except ValidationError as error:
            _errors_onto(form, error, "role")
        except Refused as refusal:  # an administrator never acts for a Nation
            form.role.errors = [*form.role.errors, refusal.message]
        else:
            message = _now_a(form.role.data, user.name) if granted else None
            flash(message or _("%(name)s holds that role already.", name=user.name), "success")
            return redirect(url_for("admin.person", user_id=user.id))
    return _person_page(session, user, role_form=form)


@bp.route("/people/<int:user_id>/roles/revoke", methods=["POST"])
@login_required
def revoke_role(user_id: int):
    session = get_session()
    user = administration.person(session, current_user, user_id)
    form = RevokeRoleForm()
    if form.validate_on_submit():
        try:
            administration.revoke_portal_role(session, current_user, user, form.role.data)
        except ValidationError as error:
            return error_page(422, error.errors.get("role", error.message))
        except NotFound:
            return error_page(404, _("%(name)s does not hold that role.", name=user.name))
        except Conflict as error:
            return error_page(409, error.message)
        flash(_no_longer_a(form.role.data, user.name), "success")
        return redirect(url_for("admin.person", user_id=user.id))
    return error_page(422, _("Name the role to take away."))


def _now_a(role: str, name: str) -> str:
    """The flash of a portal-wide role granted, one sentence per role (for the grammar)."""
    if role == "researcher":
        return _("%(name)s is now a researcher.", name=name)
    if role == "coordinator":
        return _("%(name)s is now a coordinator.", name=name)
    return _("%(name)s is now an admin.", name=name)


def _no_longer_a(role: str, name: str) -> str:
    """The flash of a portal-wide role taken away, one sentence per role."""
    if role == "researcher":
        return _("%(name)s is no longer a researcher.", name=name)
    if role == "coordinator":
        return _("%(name)s is no longer a coordinator.", name=name)
    if role == "admin":
        return _("%(name)s is no longer a admin.", name=name)
    return _("%(name)s is no longer a %(role)s.", name=name, role=role)


@bp.route("/people/<int:user_id>/active", methods=["POST"])
@login_required
def set_active(user_id: int):
    session = get_session()
    user = administration.person(session, current_user, user_id)
    form = ActiveForm()
    if form.validate_on_submit():
        active = form.action.data == "reactivate"
        try:
            administration.set_person_active(session, current_user, user, active)
        except Conflict as error:
            form.action.errors = [error.message]
        else:
            if active:
                message = _("%(name)s's login is active again.", name=user.name)
            else:
                message = _(
                    "%(name)s's login is deactivated: they can no longer sign in.", name=user.name
                )
            flash(message, "success")
            return redirect(url_for("admin.person", user_id=user.id))
    return _person_page(session, user, active_form=form)


# --- invitations -----------------------------------------------------------------------


def _invite_form(session: Session, **kwargs) -> InvitationForm:
    form = InvitationForm(**kwargs)
    form.role.choices = options(
        [*PORTAL_ROLE_CHOICES, ("representative", _("Representative (a Nation's first)"))]
    )
    form.nation.choices = options(
        [("", _("— none: a portal-wide role —"))]
        + [(n.slug, n.name) for n in invitations.nations_without_representative(session)]
    )
    return form


def _invitations_page(session: Session, form: InvitationForm, new_link: str | None = None):
    page = render_template(
        "admin/invitations.html",
        form=form,
        invitation_rows=invitations.portal_invitations(session, current_user),
        now=utcnow(),
        new_link=new_link,
    )
    return no_store(make_response(page, _status(form)))


@bp.route("/invitations", methods=["GET", "POST"], endpoint="invitations")
@login_required
def invitations_page():
    session = get_session()
    require(session, current_user, Action.INVITE)
    form = _invite_form(session)
    if form.validate_on_submit():
        nation = None
        if form.nation.data:
            try:
                nation = get_nation(session, form.nation.data)
            except NotFound:
                form.nation.errors = [_("No such Nation.")]
        if not form.nation.errors and (token := send_invitation(form, nation)):
            fresh = _invite_form(session, formdata=None)
            return _invitations_page(session, fresh, invitation_link(token))
    return _invitations_page(session, form)


# --- the registry: Nations and datasets ------------------------------------------------


@bp.route("/nations", methods=["GET", "POST"])
@login_required
def nations():
    session = get_session()
    listed = administration.registry_nations(session, current_user)
    form = NationForm()
    if form.validate_on_submit():
        try:
            nation = administration.register_nation(
                session, current_user, form.slug.data.strip(), form.name.data, form.framework.data
            )
        except ValidationError as error:
            _errors_onto(form, error, "slug")
        except Conflict as error:
            form.slug.errors = [*form.slug.errors, error.message]
        else:
            registered = _(
                "%(nation)s is registered. Its governance profile is its own: invite its "
                "first representative, who sets it.",
                nation=nation.name,
            )
            if nation.admitted_at is None:
                registered += " " + _(
                    "It becomes a member Nation when the member Nations approve its "
                    "admission: they are asked now."
                )
            flash(registered, "success")
            return redirect(url_for("admin.nations"))
    page = render_template("admin/nations.html", form=form, nations=listed)
    return page, _status(form)


def _nation_choices(session: Session) -> list:
    return options((n.slug, n.name) for n in administration.registry_nations(session, current_user))


@bp.route("/datasets", methods=["GET", "POST"])
@login_required
def datasets():
    session = get_session()
    rows = administration.registry_datasets(session, current_user)
    form = NewDatasetForm()
    form.nations.choices = _nation_choices(session)
    if form.validate_on_submit():
        try:
            dataset = administration.register_dataset(
                session,
                current_user,
                form.slug.data.strip(),
                form.title.data,
                form.custodian.data,
                form.nations.data,
                form.description.data or "",
                own_names(form),
            )
        except ValidationError as error:
            _errors_onto(form, error, "slug")
        except Conflict as error:
            form.slug.errors = [*form.slug.errors, error.message]
        else:
            flash(_("The dataset “%(title)s” is registered.", title=dataset.title), "success")
            return redirect(url_for("admin.datasets"))
    page = render_template("admin/datasets.html", form=form, rows=rows)
    return page, _status(form)


@bp.route("/datasets/<dataset_slug>", methods=["GET", "POST"])
@login_required
def dataset(dataset_slug: str):
    session = get_session()
    require(session, current_user, Action.MANAGE_REGISTRY)
    found = get_dataset(session, dataset_slug)
    form = _dataset_form(session, found)
    if form.validate_on_submit():
        try:
            changed = administration.change_dataset(
                session,
                current_user,
                found,
                title=form.title.data,
                custodian=form.custodian.data,
                description=form.description.data or "",
                nation_slugs=form.nations.data,
                names=own_names(form),
            )
        except ValidationError as error:
            _errors_onto(form, error, "title")
        else:
            flash(_("Dataset saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("admin.dataset", dataset_slug=found.slug))
    return _dataset_page(session, found, form)


# --- background jobs -------------------------------------------------------------------


@bp.route("/jobs", methods=["GET", "POST"])
@login_required
def jobs():
    """What failed every retry (job runs, mail), each with a button to run it again."""
    session = get_session()
    require(session, current_user, Action.MANAGE_JOBS)
    form = RetryForm()
    if request.method == "POST":
        if not form.validate():
            failed, messages = everything_failed(session)
            page = render_template("admin/jobs.html", failed=failed, messages=messages, form=form)
            return page, 422
        if form.kind.data == "mail":
            message = retry_message(session, form.item.data)
            if message is None:
                raise NotFound(f"no failed message {form.item.data}")
            flash(
                _(
                    "The message to %(recipient)s waits in the outbox again.",
                    recipient=message.recipient,
                ),
                "success",
            )
        else:
            failed = mark_retried(session, form.item.data)
            if failed is None:
                raise NotFound(f"no failed job {form.item.data}")
            _run_again(failed.name)
            flash(_("The job %(job)s runs again shortly.", job=failed.name), "success")
        return redirect(url_for("admin.jobs"))
    failed, messages = everything_failed(session)
    return render_template("admin/jobs.html", failed=failed, messages=messages, form=form)


def _run_again(name: str) -> None:
    """On Redis, queue the job once this request commits; without it, the runner inside
    the portal finds it due at its next tick (mark_retried made it so)."""
    from flask import current_app

    if url := current_app.config.get("REDIS_URL"):
        from portal.jobs.worker import connect, enqueue

        after_commit(lambda: enqueue(connect(url), name))


def _dataset_page(session: Session, found, form, endpoint_form=None, secret: str | None = None):
    endpoint = deliveries.current_endpoint(session, found)
    endpoint_form = endpoint_form or EndpointForm(
        formdata=None, data={"url": endpoint.url if endpoint else ""}
    )
    page = render_template(
        "admin/dataset.html",
        form=form,
        dataset=found,
        endpoint=endpoint,
        endpoint_form=endpoint_form,
        secret=secret,
    )
    # A new secret is shown once: kept out of every cache.
    return no_store(make_response(page, _status(form, endpoint_form)))


@bp.route("/datasets/<dataset_slug>/endpoint", methods=["POST"])
@login_required
def dataset_endpoint(dataset_slug: str):
    """The custodian's endpoint: save (a secret is made the first time), make a new
    secret, or remove. A new secret appears on this answer only, never again."""
    session = get_session()
    require(session, current_user, Action.MANAGE_REGISTRY)
    found = get_dataset(session, dataset_slug)
    form = EndpointForm()
    secret = None
    if form.validate_on_submit():
        try:
            if form.intent.data == "remove":
                deliveries.remove_endpoint(session, current_user, found)
                flash(_("Its custodian receives no more notices."), "success")
                return redirect(url_for("admin.dataset", dataset_slug=found.slug))
            rotate = form.intent.data == "rotate"
            _endpoint, secret = deliveries.register_endpoint(
                session, current_user, found, form.url.data or "", rotate
            )
        except ValidationError as error:
            _errors_onto(form, error, "url")
        else:
            flash(_("The endpoint is saved."), "success")
    return _dataset_page(session, found, _dataset_form(session, found, formdata=None), form, secret)


def _dataset_form(session: Session, found, **kwargs) -> DatasetForm:
    form = DatasetForm(
        data={
            "title": found.title,
            "custodian": found.custodian,
            "description": found.description,
            **{name: getattr(found, name) for name in NAME_FIELDS},
            "nations": [n.slug for n in nations_of(session, found)],
        },
        **kwargs,
    )
    form.nations.choices = _nation_choices(session)
    return form
