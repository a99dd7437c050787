"""Forms for screening, reviewing and deciding. They parse; the workflow decides."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from portal.requests.forms import CheckboxesField, options
from portal.reviews.terms import Catalogue, default_catalogue
from portal.workflow.drafting import RETURN_REASONS

# The criteria Nations' review committees apply (FNIGC, Manitoba's HIRGC, the Five Safes).
CRITERIA = {
    "reasonable_need": "Reasonable need: the question cannot be answered with public tables",
    "benefit": "Benefit to the Nation and its members",
    "individual_harm": "Risk of harm to individuals (re-identification, disclosure)",
    "group_harm": "Risk of group harm, stigma or deficit framing of the community",
    "method": "Soundness of the method",
    "ethics": "Ethics approval in place",
    "commercial": "Free of commercial use",
}
RECOMMENDATIONS = [
    ("approve", "Approve"),
    ("changes", "Ask the researcher for changes"),
    ("refuse", "Refuse"),
]
ASSESSMENTS = [("met", "Met"), ("concern", "Concern"), ("unclear", "Unclear")]
# How an assessment reads in a sentence ("Benefit to the Nation: a concern").
ASSESSMENT_WORDS = {"met": "met", "concern": "a concern", "unclear": "unclear"}


class ScreenForm(FlaskForm):
    outcome = RadioField(
        "Outcome",
        choices=options(
            [("accept", "Accept for the Nations' review"), ("return", "Return to the researcher")]
        ),
        invalid_choice_message="Choose an outcome: accept the request or return it.",
    )
    reason = SelectField(
        "Reason for returning",
        choices=options(RETURN_REASONS.items()),
        validate_choice=False,  # asked only when returning: validate_reason
    )
    comment = TextAreaField("Comment to the researcher", render_kw={"rows": 4})

    def validate_reason(self, field) -> None:
        if self.outcome.data == "return" and field.data not in RETURN_REASONS:
            raise ValidationError("Choose a reason for returning.")


class ReviewForm(FlaskForm):
    conflict_of_interest = BooleanField(
        "I have a conflict of interest and will not recommend (I do not count toward quorum)"
    )
    recommendation = RadioField(
        "Recommendation",
        choices=options(RECOMMENDATIONS),
        validate_choice=False,  # none when declaring a conflict: validate_recommendation
    )
    comment = TextAreaField("Comment", render_kw={"rows": 5})
    tell_researcher = BooleanField(
        "When asking for changes, also write this comment to the researcher in your "
        "Nation's conversation with them (as the Nation)",
        default=True,
    )

    def validate_recommendation(self, field) -> None:
        if not self.conflict_of_interest.data and field.data not in dict(RECOMMENDATIONS):
            raise ValidationError("Choose a recommendation.")

    def criteria(self) -> dict[str, str]:
        answers = {key: getattr(self, f"criterion_{key}").data for key in CRITERIA}
        return {key: answer for key, answer in answers.items() if answer}


def _assessed(label: str):
    """Each criterion is answered, none by default: a skipped one is no answer. A
    steward declaring a conflict of interest assesses nothing."""

    def check(form: ReviewForm, field) -> None:
        if form.conflict_of_interest.data and not field.data:
            return
        if field.data not in dict(ASSESSMENTS):
            raise ValidationError(f"Assess “{label}”: met, a concern or unclear.")

    return check


for _key, _label in CRITERIA.items():
    setattr(
        ReviewForm,
        f"criterion_{_key}",
        SelectField(
            _label,
            choices=options([("", "Choose an assessment"), *ASSESSMENTS]),
            validate_choice=False,  # _assessed says which criterion, in words
            validators=[_assessed(_label)],
        ),
    )


# On a line of the Nation's own conditions, what follows says when it falls due.
DUE_MARKER = "| due:"


class DecisionForm(FlaskForm):
    outcome = RadioField(
        "Decision",
        choices=options([("approve", "Approve"), ("refuse", "Refuse")]),
        invalid_choice_message="Choose a decision: approve or refuse.",
    )
    standard_conditions = CheckboxesField(
        "Standard conditions",
        choices=[],  # the catalogue in force, given by the page (__init__)
        invalid_choice_message="Choose standard conditions from the list.",
    )
    custom_conditions = TextAreaField(
        "Other conditions, one per line (end a line with | due: every 12 months, a date "
        "such as 2027-06-30, before_publication or at_end; else it is due at the end)",
        render_kw={"rows": 4},
    )
    reason = TextAreaField(
        "Reason (required to refuse; shown to the researcher)", render_kw={"rows": 4}
    )
    confirm_refusal = BooleanField(
        "I understand that refusing now ends the request, though my Nation approved it before"
    )
    # Set by the page: the Nation approved already, so a refusal needs confirming.
    after_approval = False

    def __init__(self, catalogue: Catalogue | None = None, **kwargs) -> None:
        """``catalogue``: the standard conditions in force (the page reads them)."""
        super().__init__(**kwargs)
        catalogue = default_catalogue() if catalogue is None else catalogue
        self.standard_conditions.choices = options(
            (code, entry["label"]) for code, entry in catalogue.items()
        )

    def validate_confirm_refusal(self, field) -> None:
        if self.after_approval and self.outcome.data == "refuse" and not field.data:
            raise ValidationError("Confirm the refusal: the request ends at once.")

    def _custom(self) -> list[tuple[str, str | None]]:
        """Each line of the Nation's own words, and the due it names after "| due:"."""
        found = []
        for line in (self.custom_conditions.data or "").splitlines():
            text, marker, due = line.partition(DUE_MARKER)
            if text.strip():
                found.append((text.strip(), due.strip() if marker else None))
        return found

    def conditions(self) -> list[str]:
        custom = [text for text, _ in self._custom()]
        return list(self.standard_conditions.data or []) + custom

    def given_dues(self) -> dict[str, str]:
        """When the Nation's own conditions fall due, where a line says (the workflow
        checks each: a date, "every 12 months", "before_publication" or "at_end")."""
        return {text: due for text, due in self._custom() if due is not None}


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reason (the researcher reads it)",
        validators=[InputRequired("Give the reason for revoking.")],
        render_kw={"rows": 4},
    )
    confirm = BooleanField(
        "I understand that access ends at once and cannot be restored: a new request "
        "would be needed.",
        validators=[DataRequired("Confirm that access ends at once.")],
    )
