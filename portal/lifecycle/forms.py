"""The forms of an obligation's pages: the researcher's report, the Nation's assessment."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

MAX_TEXT = 5000
OUTCOME_WORDS = {
    "met": "Met",
    "not_met": "Not met: the researcher reports again",
    "waived": "Waived: the Nation lets it go",
}


class ReportForm(FlaskForm):
    text = TextAreaField(
        "What was done to meet it (the Nation owed it reads this)",
        validators=[
            InputRequired("Say what was done to meet the obligation."),
            Length(max=MAX_TEXT),
        ],
        render_kw={"rows": 6},
    )


class AssessForm(FlaskForm):
    outcome = RadioField(
        "Outcome",
        validate_choice=True,
        validators=[InputRequired("Choose an outcome.")],
        invalid_choice_message="Choose an outcome from the list.",
    )
    comment = TextAreaField(
        "Comment (your Nation's own unless you tell the researcher; required but for met)",
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 4},
    )
    tell_researcher = BooleanField("Show this comment to the researcher with the outcome")

    def __init__(self, outcomes: list[str] = (), *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = [(o, OUTCOME_WORDS[o]) for o in outcomes]  # the page says which
