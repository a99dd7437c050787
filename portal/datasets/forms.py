from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from portal.registry.labels import KIND_GROUPS, KINDS, LABELS, MAX_HUB_URL, MAX_WORDING
from portal.webforms import PageForm


def _choices() -> list[SelectChoice]:
    """The label set as grouped options: TK Labels, BC Labels, Notices."""
    return [
        SelectChoice(code, _l(found.name), optgroup=KIND_GROUPS[kind])
        for kind in KINDS
        for code, found in LABELS.items()
        if found.kind == kind
    ]


class LabelForm(PageForm):
    """A label the Nation attaches (the service checks each field and names it)."""

    code = SelectField(_l("Label or Notice"), choices=_choices(), validate_choice=False)
    wording = TextAreaField(
        _l("Your community's own wording of it"), render_kw={"maxlength": MAX_WORDING, "rows": 3}
    )
    hub_url = StringField(
        _l("Its project on the Local Contexts Hub (https://, optional)"),
        render_kw={"maxlength": MAX_HUB_URL, "inputmode": "url"},
    )


class RemoveLabelForm(PageForm):
    """The remove button: its CSRF token only."""
