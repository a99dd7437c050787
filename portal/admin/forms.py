from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired

from portal.registry.models import Framework
from portal.registry.names import NAME_FIELDS
from portal.requests.forms import CheckboxesField, options
from portal.webforms import PageForm

PORTAL_ROLE_CHOICES = [
    ("researcher", _l("Researcher")),
    ("coordinator", _l("Coordinator")),
    ("admin", _l("Admin")),
]


class SearchForm(PageForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Name or e-mail address contains"))


class RoleForm(PageForm):
    role = SelectField(
        _l("Portal-wide role"),
        choices=options(PORTAL_ROLE_CHOICES),
        invalid_choice_message=_l("Choose a portal-wide role."),
    )


class RevokeRoleForm(PageForm):
    role = StringField(_l("Role"), validators=[DataRequired(_l("Name the role to take away."))])


class ActiveForm(PageForm):
    action = StringField(
        _l("Action"),
        validators=[
            DataRequired(_l("Say whether to deactivate or reactivate.")),
            AnyOf(["deactivate", "reactivate"], _l("Deactivate or reactivate.")),
        ],
    )


class NationForm(PageForm):
    slug = StringField(
        _l("Short name in links (slug)"),
        validators=[DataRequired(_l("Give the Nation's slug, e.g. red-cedar."))],
        render_kw={"maxlength": 64},
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the Nation's name."))],
        render_kw={"maxlength": 200},
    )
    framework = SelectField(
        _l("Data-governance framework"),
        choices=options((f.value, f.value) for f in Framework),
        invalid_choice_message=_l("Choose a data-governance framework."),
    )


class DatasetForm(PageForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the dataset's title."))],
        render_kw={"maxlength": 200},
    )
    custodian = StringField(
        _l("Custodian (who holds it)"),
        validators=[DataRequired(_l("Name the custodian."))],
        render_kw={"maxlength": 200},
    )
    description = TextAreaField(_l("Description"))
    name_fr = StringField(_l("Its name in French"), render_kw={"maxlength": 200})
    name_own = StringField(
        _l("Its name in the language of a Nation whose data it holds"), render_kw={"maxlength": 200}
    )
    name_own_lang = StringField(
        _l("Language tag of that name (BCP 47, e.g. cr-Cans, iu-Cans, moh)"),
        render_kw={"maxlength": 35, "autocapitalize": "none", "spellcheck": "false"},
    )
    nations = CheckboxesField(
        _l("Whose data it holds"),
        validators=[DataRequired(_l("Name at least one Nation whose data the dataset holds."))],
        invalid_choice_message=_l("Choose the Nations from the list."),
    )


class NewDatasetForm(DatasetForm):
    slug = StringField(
        _l("Short name in links (slug)"),
        validators=[DataRequired(_l("Give the dataset's slug, e.g. cedar-health."))],
        render_kw={"maxlength": 64},
    )


class RetryForm(PageForm):
    """Run a failed job, or send a failed message, again (the button carries its id)."""

    kind = StringField(
        _l("What"),
        validators=[
            DataRequired(_l("Say what to retry.")),
            AnyOf(["job", "mail"], _l("job or mail")),
        ],
    )
    item = IntegerField(_l("Which"), validators=[DataRequired(_l("Say which one to retry."))])


class EndpointForm(PageForm):
    """Where the dataset's custodian receives its signed notices (the service checks it)."""

    url = StringField(_l("Endpoint address (https://)"))
    intent = SelectField(
        _l("What to do"),
        choices=options(
            [("save", _l("Save")), ("rotate", _l("Make a new secret")), ("remove", _l("Remove"))]
        ),
        default="save",
        invalid_choice_message=_l("Choose to save, make a new secret or remove."),
    )


def own_names(form: DatasetForm) -> dict[str, str]:
    """The dataset's names as the form sent them (portal/registry/names.py checks them)."""
    return {name: form[name].data or "" for name in NAME_FIELDS}
