"""A Nation's governance profile page: its representative edits it and its stewards."""

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import Session

from portal.auth.forms import InvitationForm
from portal.auth.models import Role, User
from portal.auth.service import find_membership
from portal.db import get_session, utcnow
from portal.errors import Conflict, Refused, ValidationError
from portal.policy import parameters
from portal.policy.conditions import SIGNATURES
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.registry.forms import ProfileForm, RulesForm, StewardForm, rule_field, rules_form
from portal.registry.models import Nation
from portal.registry.service import get_nation, list_datasets
from portal.requests.forms import options
from portal.transparency.rulewords import condition_words
from portal.web import invitation_link, no_store, send_invitation
from portal.workflow import invitations, nation_rules, profiles

bp = Blueprint("registry", __name__, url_prefix="/nations")


def _governed_nation(session: Session, slug: str) -> Nation:
    """The Nation, if the signed-in person may manage its profile: 404 if there is no
    such Nation, 403 if they may not (Nations are public in the registry)."""
    nation = get_nation(session, slug)
    require(session, current_user, Action.MANAGE_PROFILE, nation=nation)
    return nation


def _conditions(session: Session) -> dict[str, list[tuple[str, str, list[tuple[str, str]]]]]:
    """What a Nation may choose per action: (condition, sentence, [(parameter, label)])."""
    return {
        action.value: [
            (
                name,
                SIGNATURES[name].words(),
                [
                    (parameter.name, f"{parameter.label} ({name.replace('_', ' ')})")
                    for parameter in SIGNATURES[name].parameters
                ],
            )
            for name in nation_rules.choosable(session, action)
        ]
        for action in nation_rules.NATION_RULE_ACTIONS
    }


def _rules_form(session: Session, nation: Nation, formdata: bool = True) -> RulesForm:
    """The rules form, filled in with the Nation's rules in force (or as posted)."""
    conditions = _conditions(session)
    own = nation_rules.nation_rules(session, nation)
    data = {}
    for action, named in conditions.items():
        chosen = dict(own[Action(action)])
        for name, _sentence, params in named:
            data[rule_field(action, name)] = name in chosen
            values = parameters.values(SIGNATURES[name].parameters, chosen.get(name, {}))
            for parameter, _label in params:
                data[rule_field(action, name, parameter)] = str(values[parameter])
    return rules_form(conditions, data=data, **({} if formdata else {"formdata": None}))


def _page(
    session: Session,
    nation: Nation,
    form: ProfileForm,
    steward_form: StewardForm,
    rules: RulesForm | None = None,
    preview: list[nation_rules.PreviewRow] | None = None,
):
    rules = rules or _rules_form(session, nation, formdata=False)
    # Field errors, not form.errors: WTForms caches that before the service's are added.
    has_errors = any(field.errors for field in (*form, *steward_form, *rules))
    stewards = profiles.people_in_role(session, nation, Role.STEWARD)
    representatives = profiles.people_in_role(session, nation, Role.REPRESENTATIVE)
    required = {
        action.value: [
            condition_words(name, params)
            for name, params in nation_rules.required_everywhere(session, action)
        ]
        for action in nation_rules.NATION_RULE_ACTIONS
    }
    datasets = [d for d, nations in list_datasets(session) if nation in nations]
    html = render_template(
        "registry/profile.html",
        datasets=datasets,
        nation=nation,
        form=form,
        steward_form=steward_form,
        rules_form=rules,
        rule_field=rule_field,
        required=required,
        preview=preview,
        stewards=stewards,
        representatives=representatives,
    )
    return html, 422 if has_errors else 200


@bp.route("/<slug>/profile", methods=["GET", "POST"])
@login_required
def profile(slug: str):
    session = get_session()
    nation = _governed_nation(session, slug)
    form = ProfileForm(data=ProfileForm.data_of(nation))
    if form.validate_on_submit():
        try:
            changed = profiles.update_profile(session, current_user, nation, **form.changes())
        except ValidationError as error:
            for name, message in error.errors.items():
                getattr(form, name).errors.append(message)
        else:
            flash(_("Profile saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("registry.profile", slug=slug))
    return _page(session, nation, form, StewardForm(prefix="steward", formdata=None))


@bp.route("/<slug>/rules", methods=["POST"])
@login_required
def rules(slug: str):
    """The Nation's own conditions: "Preview the change" shows what it would block or
    unblock among the requests in flight; "Save the rules" installs them."""
    session = get_session()
    nation = _governed_nation(session, slug)
    form = _rules_form(session, nation)
    rows = None
    if form.validate_on_submit():
        try:
            if request.form.get("intent") == "preview":
                rows = nation_rules.preview(session, nation, form.rules())
            else:
                version = nation_rules.set_nation_rules(session, current_user, nation, form.rules())
                flash(_saved(version, nation), "success")
                return redirect(url_for("registry.profile", slug=slug, _anchor="rules-heading"))
        except ValidationError as error:
            for key, message in error.errors.items():
                first = form.first_rule()
                field = form._fields.get(key.replace(".", "-")) or (first and form[first])
                if field:
                    field.errors.append(message)
                else:
                    flash(message, "error")
    profile_form = ProfileForm(data=ProfileForm.data_of(nation), formdata=None)
    steward_form = StewardForm(prefix="steward", formdata=None)
    return _page(session, nation, profile_form, steward_form, form, rows)


def _saved(version, nation: Nation) -> str:
    if version is None:
        return _("Nothing changed.")
    return _(
        "%(nation)s's rules saved (rules version %(number)s): %(summary)s",
        nation=nation.name,
        number=version.number,
        summary=version.summary,
    )


@bp.route("/<slug>/stewards", methods=["POST"])
@login_required
def designate(slug: str):
    session = get_session()
    nation = _governed_nation(session, slug)
    steward_form = StewardForm(prefix="steward")
    if steward_form.validate_on_submit():
        try:
            user = profiles.designate_steward(
                session, current_user, nation, steward_form.email.data
            )
        except ValidationError as error:
            steward_form.email.errors.append(error.errors.get("email", error.message))
        except (Conflict, Refused) as error:  # a steward already; an administrator
            steward_form.email.errors.append(error.message)
        else:
            flash(
                _("%(name)s is now a steward of %(nation)s.", name=user.name, nation=nation.name),
                "success",
            )
            return redirect(url_for("registry.profile", slug=slug))
    form = ProfileForm(data=ProfileForm.data_of(nation), formdata=None)
    return _page(session, nation, form, steward_form)


@bp.route("/<slug>/stewards/<int:user_id>/remove", methods=["GET", "POST"])
@login_required
def remove(slug: str, user_id: int):
    """GET asks the representative to confirm (a page of its own: no script needed);
    its button POSTs, which removes."""
    session = get_session()
    nation = _governed_nation(session, slug)
    user = session.get(User, user_id)
    if user is None or find_membership(session, user, Role.STEWARD, nation) is None:
        abort(404)
    if request.method == "GET":
        return render_template("registry/remove_steward.html", nation=nation, person=user)
    profiles.remove_steward(session, current_user, nation, user)
    flash(
        _("%(name)s is no longer a steward of %(nation)s.", name=user.name, nation=nation.name),
        "success",
    )
    return redirect(url_for("registry.profile", slug=slug))


# --- a Nation's invitations: its representatives invite its stewards and representatives


def _invitations_page(session: Session, nation: Nation, form, new_link: str | None = None):
    rows = [
        (inv, nation) for inv in invitations.invitations_of_nation(session, current_user, nation)
    ]
    has_errors = any(field.errors for field in form)
    page = render_template(
        "registry/invitations.html",
        nation=nation,
        form=form,
        invitation_rows=rows,
        now=utcnow(),
        new_link=new_link,
    )
    return no_store(make_response(page, 422 if has_errors else 200))


def _member_form(**kwargs) -> InvitationForm:
    form = InvitationForm(**kwargs)
    form.role.choices = options((role.value, role.label) for role in invitations.MEMBER_ROLES)
    del form.nation  # the Nation is the page's own
    return form


@bp.route("/<slug>/invitations", methods=["GET", "POST"], endpoint="invitations")
@login_required
def invitations_page(slug: str):
    session = get_session()
    nation = get_nation(session, slug)
    require(session, current_user, Action.INVITE_MEMBER, nation=nation)
    form = _member_form()
    if form.validate_on_submit():
        token = send_invitation(form, nation)
        if token is not None:
            return _invitations_page(
                session, nation, _member_form(formdata=None), invitation_link(token)
            )
    return _invitations_page(session, nation, form)
