"""Forms for screening, reviewing and deciding. They parse; the workflow decides."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import BooleanField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import HiddenInput

from portal.i18n import current_language
from portal.requests.forms import CheckboxesField, options
from portal.reviews.due import FORM_MARKER, SPELLINGS, from_form, spelled
from portal.reviews.terms import Catalogue, default_catalogue, shown
from portal.web import access_ends_confirmation
from portal.webforms import PageForm
from portal.workflow.deciding import comment_missing
from portal.workflow.drafting import RETURN_REASONS

# The criteria Nations' review committees apply (FNIGC, Manitoba's HIRGC, the Five Safes).
CRITERIA = {
    "reasonable_need": _l("Reasonable need: the question cannot be answered with public tables"),
    "benefit": _l("Benefit to the Nation and its members"),
    "individual_harm": _l("Risk of harm to individuals (re-identification, disclosure)"),
    "group_harm": _l("Risk of group harm, stigma or deficit framing of the community"),
    "method": _l("Soundness of the method"),
    "ethics": _l("Ethics approval in place"),
    "commercial": _l("Free of commercial use"),
}
RECOMMENDATIONS = [
    ("approve", _l("Approve")),
    ("changes", _l("Ask the researcher for changes")),
    ("refuse", _l("Refuse")),
]
# "Met" here is a criterion satisfied, in the words of the refusal and the decision page
# (in French not the obligation's « Respectée »), hence its own context.
ASSESSMENTS = [
    ("met", lazy_pgettext("criterion assessment", "Met")),
    ("concern", _l("Concern")),
    ("unclear", _l("Unclear")),
]
# How an assessment reads in a sentence ("Benefit to the Nation: a concern").
ASSESSMENT_WORDS = {"met": _l("met"), "concern": _l("a concern"), "unclear": _l("unclear")}


class RevisionField(IntegerField):
    """The hidden revision a page was opened on; anything but a number says so in words
    (WTForms' own "Not a valid integer value" names no field)."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                _("The page did not say which revision it showed: open it again, then answer.")
            ) from None


class ReadsRevision:
    """A judgement of the revision shown when the page was opened (filled then, sent
    back hidden): the workflow refuses it if the request was revised meanwhile."""

    revision = RevisionField(widget=HiddenInput(), validators=[Optional()])

    def shows(self, request) -> None:
        """The page shows ``request`` as it is now: the answer sent from it judges that."""
        self.revision.data = request.current_revision
        self.revision.raw_data = []  # else the page would send back what was posted


class ScreenForm(ReadsRevision, PageForm):
    outcome = RadioField(
        _l("Outcome"),
        choices=options(
            [
                ("accept", _l("Accept for the Nations' review")),
                ("return", _l("Return to the researcher")),
            ]
        ),
        invalid_choice_message=_l("Choose an outcome: accept the request or return it."),
    )
    reason = SelectField(
        _l("Reason for returning"),
        choices=options(RETURN_REASONS.items()),
        validate_choice=False,  # asked only when returning: validate_reason
    )
    comment = TextAreaField(_l("Comment to the researcher"), render_kw={"rows": 4})

    def validate_reason(self, field) -> None:
        if self.outcome.data == "return" and field.data not in RETURN_REASONS:
            raise ValidationError(_("Choose a reason for returning."))


class ReviewForm(ReadsRevision, PageForm):
    conflict_of_interest = BooleanField(
        _l("I have a conflict of interest and will not recommend (I do not count toward quorum)")
    )
    recommendation = RadioField(
        _l("Recommendation"),
        choices=options(RECOMMENDATIONS),
        validate_choice=False,  # none when declaring a conflict: validate_recommendation
    )
    comment = TextAreaField(_l("Comment"), render_kw={"rows": 5})
    tell_researcher = BooleanField(
        _l(
            "When asking for changes, also write this comment to the researcher in your "
            "Nation's conversation with them (as the Nation)"
        ),
        default=True,
    )

    def validate_recommendation(self, field) -> None:
        if not self.conflict_of_interest.data and field.data not in dict(RECOMMENDATIONS):
            raise ValidationError(_("Choose a recommendation."))

    def validate_comment(self, field) -> None:
        # Asked here too, so that the first answer names it beside an unanswered criterion.
        recommendation = None if self.conflict_of_interest.data else self.recommendation.data
        if unexplained := comment_missing(recommendation, field.data or ""):
            raise ValidationError(unexplained)

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
            raise ValidationError(
                _("Assess “%(criterion)s”: met, a concern or unclear.", criterion=label)
            )

    return check


for _key, _label in CRITERIA.items():
    setattr(
        ReviewForm,
        f"criterion_{_key}",
        SelectField(
            _label,
            choices=options([("", _l("Choose an assessment")), *ASSESSMENTS]),
            validate_choice=False,  # _assessed says which criterion, in words
            validators=[_assessed(_label)],
        ),
    )


class DecisionForm(ReadsRevision, PageForm):
    outcome = RadioField(
        _l("Decision"),
        choices=options([("approve", _l("Approve")), ("refuse", _l("Refuse"))]),
        invalid_choice_message=_l("Choose a decision: approve or refuse."),
    )
    standard_conditions = CheckboxesField(
        _l("Standard conditions"),
        choices=[],  # the catalogue in force, given by the page (__init__)
        invalid_choice_message=_l("Choose standard conditions from the list."),
    )
    custom_conditions = TextAreaField(
        _l(
            "Other conditions, one per line (end a line with | due: every 12 months, a date "
            "such as 2027-06-30, before_publication or at_end; else it is due at the end)"
        ),
        render_kw={"rows": 4},
    )
    reason = TextAreaField(
        _l("Reason (required to refuse; shown to the researcher)"), render_kw={"rows": 4}
    )
    # A refusal is final, so the page asks to confirm it, as revoking and closing early
    # do; the label says more once the Nation approved (set_after_approval). The API's
    # decide asks for no confirmation: its contract is its own.
    confirm_refusal = BooleanField(_l("I confirm the refusal: it cannot be undone."))
    # Set by the page: the Nation approved already, so only a refusal is left to decide.
    after_approval = False

    def __init__(self, catalogue: Catalogue | None = None, **kwargs) -> None:
        """``catalogue``: the standard conditions in force (the page reads them)."""
        super().__init__(**kwargs)
        catalogue = default_catalogue() if catalogue is None else catalogue
        self.standard_conditions.choices = options(
            (code, shown(entry["label"])) for code, entry in catalogue.items()
        )

    def start_from(self, conditions: list[dict]) -> None:
        """Show ``conditions`` (a decision's) as chosen: standard ones the catalogue in
        force still holds ticked, the others as lines, each with its due where it has one
        (workflow.deciding.conditions_in_force)."""
        codes = {choice.value for choice in self.standard_conditions.choices}
        language = current_language()
        spelling = SPELLINGS[language]
        ticked, lines = [], []
        for condition in conditions:
            code, due = condition.get("code"), condition.get("due")
            if code in codes and not due:
                ticked.append(code)
                continue
            # A standard one with a due of its own is a line by its code (the decision
            # reads a code as the standard condition), keeping the due.
            words = code if code in codes else condition["text"]
            lines.append(f"{words} {spelling.marker} {spelled(due, language)}" if due else words)
        self.standard_conditions.data = ticked
        self.custom_conditions.data = "\n".join(lines)

    def set_after_approval(self) -> None:
        self.after_approval = True
        self.confirm_refusal.label.text = _(
            "I understand that refusing now ends the request, though my Nation approved it before"
        )

    def validate_confirm_refusal(self, field) -> None:
        if self.outcome.data != "refuse" or field.data:
            return
        if self.after_approval:
            raise ValidationError(_("Confirm the refusal: the request ends at once."))
        raise ValidationError(_("Confirm the refusal: it cannot be undone."))

    def _custom(self) -> list[tuple[str, str | None]]:
        """Each line of the Nation's own words, and the due it names after "| due:"."""
        found = []
        for line in (self.custom_conditions.data or "").splitlines():
            text, *due = FORM_MARKER.split(line, maxsplit=1)
            if text.strip():
                found.append((text.strip(), from_form(due[0]) if due else None))
        return found

    def conditions(self) -> list[str]:
        custom = [text for text, _ in self._custom()]
        return list(self.standard_conditions.data or []) + custom

    def given_dues(self) -> dict[str, str]:
        """When the Nation's own conditions fall due, where a line says (the workflow
        checks each: a date, "every 12 months", "before_publication" or "at_end")."""
        return {text: due for text, due in self._custom() if due is not None}


class RevokeForm(PageForm):
    reason = TextAreaField(
        _l("Reason (the researcher reads it)"),
        validators=[InputRequired(_l("Give the reason for revoking."))],
        render_kw={"rows": 4},
    )
    confirm = access_ends_confirmation()

    def set_before_access(self) -> None:
        """Before the agreement takes effect there is no access to end: revoking ends the
        request, and the box says so (its refusal too)."""
        self.confirm.label.text = _(
            "I understand that the request ends for every Nation and cannot be restored: "
            "a new request would be needed."
        )
        self.confirm.validators = [
            DataRequired(_("Confirm that the request ends for every Nation."))
        ]
