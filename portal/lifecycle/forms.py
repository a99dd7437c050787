"""The forms of an obligation's pages (the researcher's report, the Nation's assessment) and
of the end of access (closing early, the attestation, a Nation's answer)."""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import HiddenInput

from portal.web import access_ends_confirmation, uploaded
from portal.webforms import PageForm

MAX_TEXT = 5000
OUTCOME_WORDS = {
    "met": _l("Met"),
    "not_met": _l("Not met: the researcher reports again"),
    "waived": _l("Waived: the Nation lets it go"),
}


class ReportForm(PageForm):
    text = TextAreaField(
        _l("What was done to meet it (the Nation it is owed to reads this)"),
        validators=[
            InputRequired(_l("Say what was done to meet the obligation.")),
            Length(max=MAX_TEXT),
        ],
        render_kw={"rows": 6},
    )
    file = FileField(
        _l(
            "A file with the report (optional): a PDF, a CSV table or plain text. After an "
            "error, choose it again."
        )
    )

    def content(self) -> tuple[str, bytes]:
        return uploaded(self.file)


class ReportReadField(Field):
    """When the report the page showed was sent (its reported_at), kept hidden; anything
    but such a time says so in words, as the review pages' hidden revision does."""

    widget = HiddenInput()

    def process_formdata(self, valuelist) -> None:
        self.data = None
        if not valuelist or not valuelist[0]:
            return
        try:
            read = datetime.fromisoformat(valuelist[0])
        except ValueError:
            read = None
        if read is None or read.tzinfo is None:
            raise ValueError(
                _("The page did not say which report it showed: open it again, then answer.")
            )
        self.data = read

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data is not None else ""


class AssessForm(PageForm):
    reported_at = ReportReadField()
    outcome = RadioField(
        _l("Outcome"),
        validate_choice=True,
        validators=[InputRequired(_l("Choose an outcome."))],
        invalid_choice_message=_l("Choose an outcome from the list."),
    )
    comment = TextAreaField(
        _l("Comment (your Nation's own unless you tell the researcher; required unless it is met)"),
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 4},
    )
    tell_researcher = BooleanField(_l("Show this comment to the researcher with the outcome"))

    def __init__(self, outcomes: list[str] = (), *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = [(o, OUTCOME_WORDS[o]) for o in outcomes]  # the page says which

    def shows(self, obligation) -> None:
        """The page shows ``obligation``'s latest report: the assessment sent judges that."""
        self.reported_at.data = obligation.reported_at
        self.reported_at.raw_data = []  # else the page would send back what was posted


# The end of access (portal/workflow/ending.py checks every field; these keep the page's
# limits and what was typed).
ANSWER_WORDS = {
    "acknowledged": _l("Acknowledged: the data's destruction is accepted"),
    "more_needed": _l("More needed: the researcher attests again"),
}


class CloseForm(PageForm):
    reason = TextAreaField(
        _l("Why access ends early (optional)"),
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )
    # The web form's alone: the API's close takes {reason} (README, "API").
    confirm = access_ends_confirmation()


class AttestForm(PageForm):
    what = TextAreaField(
        _l("What was destroyed or returned"),
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )
    method = TextAreaField(
        _l("How it was destroyed or returned"),
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )
    done_on = StringField(_l("Done on"), render_kw={"type": "date"})
    done_by = StringField(_l("Done by"), validators=[Length(max=300)])
    password = PasswordField(_l("Your password (it signs the attestation)"))


class AnswerForm(PageForm):
    outcome = RadioField(
        _l("Your Nation's answer"),
        choices=list(ANSWER_WORDS.items()),
        validate_choice=True,
        validators=[InputRequired(_l("Choose an answer."))],
        invalid_choice_message=_l("Choose an answer from the list."),
    )
    comment = TextAreaField(
        _l("Comment (required when more is needed; only the researcher and your Nation read it)"),
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 4},
    )
