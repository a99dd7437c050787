import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, StringField
from wtforms.validators import InputRequired, Optional

from portal.registry.models import Nation

WHOLE_NUMBER = "Give a whole number."


class ProfileForm(FlaskForm):
    review_quorum = IntegerField(
        "Steward reviews needed before approval", validators=[InputRequired(WHOLE_NUMBER)]
    )
    min_approvals = IntegerField(
        "Of those, reviews that must recommend approval", validators=[InputRequired(WHOLE_NUMBER)]
    )
    residency = StringField("Where the data may be stored")
    max_term_days = IntegerField("Longest term of an agreement, in days", validators=[Optional()])
    output_review_required = BooleanField("The community reviews outputs before they are published")
    small_cell_threshold = IntegerField(
        "Small-cell threshold", validators=[InputRequired(WHOLE_NUMBER)]
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
