from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from portal.registry.labels import KINDS, LABELS, MAX_HUB_URL, MAX_WORDING


def _choices() -> dict[str, list[tuple[str, str]]]:
    """The label set as grouped options: TK Labels, BC Labels, Notices."""
    return {
        kind + "s": [(code, found.name) for code, found in LABELS.items() if found.kind == kind]
        for kind in KINDS
    }


class LabelForm(FlaskForm):
    """A label the Nation attaches (the service checks each field and names it)."""

    code = SelectField("Label or Notice", choices=_choices(), validate_choice=False)
    wording = TextAreaField(
        "Your community's own wording of it", render_kw={"maxlength": MAX_WORDING, "rows": 3}
    )
    hub_url = StringField(
        "Its project on the Local Contexts Hub (https://, optional)",
        render_kw={"maxlength": MAX_HUB_URL, "inputmode": "url"},
    )


class RemoveLabelForm(FlaskForm):
    """The remove button: its CSRF token only."""
