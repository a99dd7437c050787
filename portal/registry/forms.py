import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import InputRequired, Optional

from portal.registry.models import Nation
from portal.requests.forms import WholeNumberField


def _whole_number(label: str, message: str, required: bool = True) -> WholeNumberField:
    """A whole number, its message naming it whether it is missing or not a number."""
    check = InputRequired(message) if required else Optional()
    return WholeNumberField(label, invalid=message, validators=[check])


class ProfileForm(FlaskForm):
    review_quorum = _whole_number(
        "Steward reviews needed before approval",
        "Give the steward reviews needed as a whole number.",
    )
    min_approvals = _whole_number(
        "Of those, reviews that must recommend approval",
        "Give the reviews that must recommend approval as a whole number.",
    )
    residency = StringField("Where the data may be stored")
    max_term_days = _whole_number(
        "Longest term of an agreement, in days",
        "Give the longest term as a whole number of days, or leave it empty.",
        required=False,
    )
    output_review_required = BooleanField("The community reviews outputs before they are published")
    small_cell_threshold = _whole_number(
        "Small-cell threshold", "Give the small-cell threshold as a whole number."
    )

    @staticmethod
    def data_of(nation: Nation) -> dict:
        return {
            "review_quorum": nation.review_quorum,
            "min_approvals": nation.min_approvals,
            "residency": " ".join(nation.residency),
            "max_term_days": nation.max_term_days,
            "output_review_required": nation.output_review_required,
            "small_cell_threshold": nation.small_cell_threshold,
        }

    def changes(self) -> dict:
        return {
            "review_quorum": self.review_quorum.data,
            "min_approvals": self.min_approvals.data,
            "residency": [code for code in re.split(r"[\s,]+", self.residency.data or "") if code],
            "max_term_days": self.max_term_days.data,
            "output_review_required": self.output_review_required.data,
            "small_cell_threshold": self.small_cell_threshold.data,
        }


class StewardForm(FlaskForm):
    email = EmailField(
        "E-mail address of the person to designate",
        validators=[InputRequired("Give the e-mail address of the person's login.")],
    )
