from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired

from portal.registry.models import Framework
from portal.registry.names import NAME_FIELDS
from portal.requests.forms import CheckboxesField, options

PORTAL_ROLE_CHOICES = [
    ("researcher", "Researcher"),
    ("coordinator", "Coordinator"),
    ("admin", "Admin"),
]


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Name or e-mail address contains")


class RoleForm(FlaskForm):
    role = SelectField(
        "Portal-wide role",
        choices=options(PORTAL_ROLE_CHOICES),
        invalid_choice_message="Choose a portal-wide role.",
    )


class RevokeRoleForm(FlaskForm):
    role = StringField("Role", validators=[DataRequired("Name the role to take away.")])


class ActiveForm(FlaskForm):
    action = StringField(
        "Action",
        validators=[
            DataRequired("Say whether to deactivate or reactivate."),
            AnyOf(["deactivate", "reactivate"], "Deactivate or reactivate."),
        ],
    )


class NationForm(FlaskForm):
    slug = StringField(
        "Short name in links (slug)",
        validators=[DataRequired("Give the Nation's slug, e.g. red-cedar.")],
        render_kw={"maxlength": 64},
    )
    name = StringField(
        "Name", validators=[DataRequired("Give the Nation's name.")], render_kw={"maxlength": 200}
    )
    framework = SelectField(
        "Data-governance framework",
        choices=options((f.value, f.value) for f in Framework),
        invalid_choice_message="Choose a data-governance framework.",
    )


class DatasetForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[DataRequired("Give the dataset's title.")],
        render_kw={"maxlength": 200},
    )
    custodian = StringField(
        "Custodian (who holds it)",
        validators=[DataRequired("Name the custodian.")],
        render_kw={"maxlength": 200},
    )
    description = TextAreaField("Description")
    name_fr = StringField("Its name in French", render_kw={"maxlength": 200})
    name_own = StringField(
        "Its name in the language of a Nation whose data it holds", render_kw={"maxlength": 200}
    )
    name_own_lang = StringField(
        "Language tag of that name (BCP 47, e.g. cr-Cans, iu-Cans, moh)",
        render_kw={"maxlength": 35, "autocapitalize": "none", "spellcheck": "false"},
    )
    nations = CheckboxesField(
        "Whose data it holds",
        validators=[DataRequired("Name at least one Nation whose data the dataset holds.")],
        invalid_choice_message="Choose the Nations from the list.",
    )


class NewDatasetForm(DatasetForm):
    slug = StringField(
        "Short name in links (slug)",
        validators=[DataRequired("Give the dataset's slug, e.g. cedar-health.")],
        render_kw={"maxlength": 64},
    )


class RetryForm(FlaskForm):
    """Run a failed job, or send a failed message, again (the button carries its id)."""

    kind = StringField(
        "What",
        validators=[DataRequired("Say what to retry."), AnyOf(["job", "mail"], "job or mail")],
    )
    item = IntegerField("Which", validators=[DataRequired("Say which one to retry.")])


class EndpointForm(FlaskForm):
    """Where the dataset's custodian receives its signed notices (the service checks it)."""

    url = StringField("Endpoint address (https://)")
    intent = SelectField(
        "What to do",
        choices=options([("save", "Save"), ("rotate", "Make a new secret"), ("remove", "Remove")]),
        default="save",
        invalid_choice_message="Choose to save, make a new secret or remove.",
    )


def own_names(form: DatasetForm) -> dict[str, str]:
    """The dataset's names as the form sent them (portal/registry/names.py checks them)."""
    return {name: form[name].data or "" for name in NAME_FIELDS}
