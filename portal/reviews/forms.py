"""Forms for screening, reviewing and deciding. They parse; the workflow decides."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, TextAreaField

from portal.requests.forms import CheckboxesField, options
from portal.requests.workflow import RETURN_REASONS
from portal.reviews.terms import STANDARD_CONDITIONS

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
ASSESSMENTS = [("met", "Met"), ("concern", "Concern"), ("unclear", "Unclear")]


class ScreenForm(FlaskForm):
    outcome = RadioField(
        "Outcome",
        choices=options(
            [("accept", "Accept for the Nations' review"), ("return", "Return to the researcher")]
        ),
    )
    reason = SelectField("Reason for returning", choices=options(RETURN_REASONS.items()))
    comment = TextAreaField("Comment to the researcher", render_kw={"rows": 4})


class ReviewForm(FlaskForm):
    conflict_of_interest = BooleanField(
        "I have a conflict of interest and will not recommend (I do not count toward quorum)"
    )
    recommendation = RadioField(
        "Recommendation",
        choices=options(
            [
                ("approve", "Approve"),
                ("changes", "Ask the researcher for changes"),
                ("refuse", "Refuse"),
            ]
        ),
        validate_choice=False,
    )
    comment = TextAreaField("Comment", render_kw={"rows": 5})

    def criteria(self) -> dict[str, str]:
        return {key: getattr(self, f"criterion_{key}").data for key in CRITERIA}


for _key, _label in CRITERIA.items():
    setattr(
        ReviewForm,
        f"criterion_{_key}",
        SelectField(_label, choices=options(ASSESSMENTS), default="unclear"),
    )


class DecisionForm(FlaskForm):
    outcome = RadioField(
        "Decision", choices=options([("approve", "Approve"), ("refuse", "Refuse")])
    )
    standard_conditions = CheckboxesField(
        "Standard conditions",
        choices=options((code, label) for code, (label, _text) in STANDARD_CONDITIONS.items()),
    )
    custom_conditions = TextAreaField("Other conditions, one per line", render_kw={"rows": 4})
    reason = TextAreaField(
        "Reason (required to refuse; shown to the researcher)", render_kw={"rows": 4}
    )

    def conditions(self) -> list[str]:
        custom = [line.strip() for line in (self.custom_conditions.data or "").splitlines()]
        return list(self.standard_conditions.data or []) + [line for line in custom if line]
