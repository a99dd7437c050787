"""Web forms for drafting a request. They only parse what was typed; the rules
(what is valid, what submission needs) are in fields.py and the workflow."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.requests.fields import AGREEMENT_LANGUAGES, DEFAULT_AGREEMENT_LANGUAGE, LABELS
from portal.webforms import PageForm

TEAM_ROWS = 3  # empty rows offered for new team members (the page works without JavaScript)


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options."""
    return [SelectChoice(value, label) for value, label in pairs]


class WholeNumberField(IntegerField):
    """A whole number whose refusal names the field ("Give the retention as a whole
    number of days."), never WTForms' "Not a valid integer value."."""

    def __init__(self, label: str, *, invalid: str, **kwargs) -> None:
        super().__init__(label, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(self.invalid)) from None


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


# fields.AGREEMENT_LANGUAGES as the form words them, in the language of the page.
LANGUAGE_WORDS = {
    "en": _l("English"),
    "fr": _l("French"),
    "both": _l("English and French side by side"),
}


class TeamMemberForm(Form):  # a plain Form: the outer PageForm carries the CSRF token
    name = StringField(_l("Name"))
    email = StringField(_l("E-mail address"))
    role = StringField(_l("Role on the project"))


class DraftForm(PageForm):
    title = StringField(LABELS["title"])
    purpose = TextAreaField(LABELS["purpose"], render_kw={"rows": 5})
    datasets = CheckboxesField(LABELS["datasets"], choices=[], validate_choice=False)
    methods = TextAreaField(LABELS["methods"], render_kw={"rows": 5})
    community_benefit = TextAreaField(LABELS["community_benefit"], render_kw={"rows": 4})
    harm_assessment = TextAreaField(LABELS["harm_assessment"], render_kw={"rows": 4})
    ethics_approval = StringField(LABELS["ethics_approval"])
    storage_location = StringField(LABELS["storage_location"])
    retention_days = WholeNumberField(
        LABELS["retention_days"],
        invalid=_l("Give the retention as a whole number of days."),
        validators=[Optional()],
        render_kw={"inputmode": "numeric"},
    )
    team = FieldList(FormField(TeamMemberForm), label=LABELS["team"], min_entries=TEAM_ROWS)
    # A value outside fields.AGREEMENT_LANGUAGES is the service's to refuse
    # (validate_choice=False), in the same words as the API's.
    agreement_language = RadioField(
        _l("Language of the agreement"),
        choices=options((code, LANGUAGE_WORDS[code]) for code in AGREEMENT_LANGUAGES),
        default=DEFAULT_AGREEMENT_LANGUAGE,
        validate_choice=False,
    )

    def values(self) -> dict:
        """What was typed, in the shape the service takes."""
        return {
            "title": self.title.data or "",
            "purpose": self.purpose.data or "",
            "datasets": list(self.datasets.data or []),
            "methods": self.methods.data or "",
            "community_benefit": self.community_benefit.data or "",
            "harm_assessment": self.harm_assessment.data or "",
            "ethics_approval": self.ethics_approval.data or "",
            "storage_location": self.storage_location.data or "",
            "retention_days": self.retention_days.data,
            "agreement_language": self.agreement_language.data or DEFAULT_AGREEMENT_LANGUAGE,
            # A row the browser did not send reads as None: treat it as empty.
            "team": [
                {key: value or "" for key, value in entry.data.items()}
                for entry in self.team.entries
            ],
        }

    def offer_team_rows(self) -> None:
        """TEAM_ROWS empty rows after the members already named, however many: without
        them a request naming three could never name a fourth."""
        named = sum(1 for entry in self.team.entries if any(entry.data.values()))
        while len(self.team.entries) < named + TEAM_ROWS:
            self.team.append_entry()

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put a service's ValidationError messages on the fields they name."""
        for name, message in errors.items():
            field = getattr(self, name, None)
            if field is None:
                self.form_errors.append(message)
            else:
                field.errors = (
                    [*field.errors, message] if isinstance(field.errors, list) else [message]
                )


HINTS = {
    "purpose": _l("What the data will be used for, and the questions it answers."),
    "datasets": _l("The Nations whose data each dataset holds review your request."),
    "methods": _l("How the data will be analysed; why public tables are not enough."),
    "community_benefit": _l("How the Nations and their members benefit."),
    "harm_assessment": _l(
        "Risks to individuals and to the communities, including deficit framing."
    ),
    "ethics_approval": _l("The research ethics board and its approval reference."),
    "storage_location": _l("Where the data will be held: an ISO 3166 code such as CA or CA-ON."),
    "retention_days": _l("How long the data will be kept, in days."),
    "agreement_language": _l(
        "The language every party signs the agreement in. The Nations see your choice "
        "before they decide."
    ),
}
