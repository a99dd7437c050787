"""Forms for outputs before publication. They parse; the workflow decides."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import ValidationError

from portal.requests.forms import options
from portal.web import uploaded
from portal.webforms import PageForm

CHOICES = [("approve", _l("Approve publication")), ("refuse", _l("Refuse publication"))]


class SubmitOutputForm(PageForm):
    title = StringField(_l("Title of the output"))
    venue = StringField(_l("Where it will be published (journal, report, website, ...)"))
    file = FileField(_l("The file: a PDF, a CSV table or plain text"))

    def content(self) -> tuple[str, bytes]:
        return uploaded(self.file)


class OutputReviewForm(PageForm):
    conflict_of_interest = BooleanField(
        _l("I have a conflict of interest and will not recommend (I do not count toward quorum)")
    )
    recommendation = RadioField(
        _l("Recommendation"), choices=options(CHOICES), validate_choice=False
    )
    comment = TextAreaField(_l("Comment (your Nation's own people read it)"), render_kw={"rows": 4})

    def validate_recommendation(self, field) -> None:
        from flask_babel import gettext as _

        if not self.conflict_of_interest.data and field.data not in dict(CHOICES):
            raise ValidationError(_("Choose a recommendation."))


class OutputDecisionForm(PageForm):
    outcome = RadioField(
        _l("Decision"),
        choices=options(CHOICES),
        invalid_choice_message=_l("Choose a decision: approve or refuse publication."),
    )
    reason = TextAreaField(_l("Reasons (the researcher reads them)"), render_kw={"rows": 4})
