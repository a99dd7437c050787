"""Forms for outputs before publication. They parse; the workflow decides."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import ValidationError

from portal.requests.forms import options
from portal.web import uploaded

CHOICES = [("approve", "Approve publication"), ("refuse", "Refuse publication")]


class SubmitOutputForm(FlaskForm):
    title = StringField("Title of the output")
    venue = StringField("Where it will be published (journal, report, website, ...)")
    file = FileField("The file: a PDF, a CSV table or plain text")

    def content(self) -> tuple[str, bytes]:
        return uploaded(self.file)


class OutputReviewForm(FlaskForm):
    conflict_of_interest = BooleanField(
        "I have a conflict of interest and will not recommend (I do not count toward quorum)"
    )
    recommendation = RadioField("Recommendation", choices=options(CHOICES), validate_choice=False)
    comment = TextAreaField("Comment (your Nation's own people read it)", render_kw={"rows": 4})

    def validate_recommendation(self, field) -> None:
        if not self.conflict_of_interest.data and field.data not in dict(CHOICES):
            raise ValidationError("Choose a recommendation.")


class OutputDecisionForm(FlaskForm):
    outcome = RadioField(
        "Decision",
        choices=options(CHOICES),
        invalid_choice_message="Choose a decision: approve or refuse publication.",
    )
    reason = TextAreaField("Reasons (the researcher reads them)", render_kw={"rows": 4})
