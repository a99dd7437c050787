import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import InputRequired, Optional

from portal.registry.models import REMINDER_FIELDS, Nation
from portal.registry.names import NAME_FIELDS
from portal.requests.forms import WholeNumberField
from portal.webforms import PageForm


def _whole_number(label: str, message: str, required: bool = True) -> WholeNumberField:
    """A whole number, its message naming it whether it is missing or not a number."""
    check = InputRequired(message) if required else Optional()
    return WholeNumberField(label, invalid=message, validators=[check])


class ProfileForm(PageForm):
    name_fr = StringField(_l("Its name in French"), render_kw={"maxlength": 200})
    name_own = StringField(
        _l("Its name in its own language and script"), render_kw={"maxlength": 200}
    )
    name_own_lang = StringField(
        _l("Language tag of that name (BCP 47, e.g. cr-Cans, iu-Cans, moh)"),
        render_kw={"maxlength": 35, "autocapitalize": "none", "spellcheck": "false"},
    )
    review_quorum = _whole_number(
        _l("Steward reviews needed before approval"),
        _l("Give the steward reviews needed as a whole number."),
    )
    min_approvals = _whole_number(
        _l("Of those, reviews that must recommend approval"),
        _l("Give the reviews that must recommend approval as a whole number."),
    )
    residency = StringField(_l("Where the data may be stored"))
    max_term_days = _whole_number(
        _l("Longest term of an agreement, in days"),
        _l("Give the longest term as a whole number of days, or leave it empty."),
        required=False,
    )
    remind_review_days = _whole_number(
        _l("Remind the stewards when a review has waited this many days"),
        _l("Give the days before a review reminder as a whole number, or leave it empty."),
        required=False,
    )
    remind_decision_days = _whole_number(
        _l("Remind the representatives when a decision has waited this many days"),
        _l("Give the days before a decision reminder as a whole number, or leave it empty."),
        required=False,
    )
    remind_signature_days = _whole_number(
        _l("Remind the signers when the agreement has waited this many days for a signature"),
        _l("Give the days before a signature reminder as a whole number, or leave it empty."),
        required=False,
    )
    remind_report_days = _whole_number(
        _l("Remind the researcher when an obligation's report is this many days overdue"),
        _l("Give the days before a report reminder as a whole number, or leave it empty."),
        required=False,
    )
    output_review_required = BooleanField(
        _l("The community reviews outputs before they are published")
    )
    small_cell_threshold = _whole_number(
        _l("Small-cell threshold"), _l("Give the small-cell threshold as a whole number.")
    )
    attestation_due_days = _whole_number(
        _l("Days after access ends to attest the data's destruction"),
        _l("Give the days to attest destruction as a whole number."),
        required=False,  # left out or empty: unchanged
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
            **{name: getattr(nation, name) for name in REMINDER_FIELDS},
            "attestation_due_days": nation.attestation_due_days,
            **{name: getattr(nation, name) for name in NAME_FIELDS},
        }

    def changes(self) -> dict:
        kept = (
            {}
            if self.attestation_due_days.data is None
            else {"attestation_due_days": self.attestation_due_days.data}
        )
        # A name not sent at all (a form of before the names) stays; sent empty, it goes.
        kept |= {name: self[name].data or "" for name in NAME_FIELDS if self[name].raw_data}
        return kept | {
            "review_quorum": self.review_quorum.data,
            "min_approvals": self.min_approvals.data,
            "residency": [code for code in re.split(r"[\s,]+", self.residency.data or "") if code],
            "max_term_days": self.max_term_days.data,
            "output_review_required": self.output_review_required.data,
            "small_cell_threshold": self.small_cell_threshold.data,
            **{name: self[name].data for name in REMINDER_FIELDS},
        }


class StewardForm(PageForm):
    email = EmailField(
        _l("E-mail address of the person to designate"),
        validators=[InputRequired(_l("Give the e-mail address of the person's login."))],
    )


def rule_field(action: str, name: str, parameter: str | None = None) -> str:
    """The form field of a condition on an action (a checkbox), or of one of its
    parameters: approve-team_at_most, approve-team_at_most-count."""
    return "-".join(part for part in (action, name, parameter) if part)


class RulesForm(PageForm):
    """A Nation's own conditions: a checkbox per condition it may choose, per action,
    and a box per parameter. The fields are added per page (rules_form())."""

    conditions: dict[str, list[str]] = {}  # action -> condition names, in page order

    def rules(self) -> dict[str, list[tuple[str, dict[str, str]]]]:
        """{action: [(condition, {parameter: text as typed})]} of the checked ones."""
        chosen: dict[str, list[tuple[str, dict[str, str]]]] = {}
        for action, names in self.conditions.items():
            chosen[action] = [
                (name, self.params(action, name))
                for name in names
                if self[rule_field(action, name)].data
            ]
        return chosen

    def first_rule(self) -> str | None:
        """The field a problem of the rules as a whole is shown by (None: the form offers
        no condition at all, when every one applies to every Nation already)."""
        first = next(((a, n) for a, n in self.conditions.items() if n), None)
        return None if first is None else rule_field(first[0], first[1][0])

    def params(self, action: str, name: str) -> dict[str, str]:
        prefix = rule_field(action, name) + "-"
        return {
            field.name[len(prefix) :]: (field.data or "").strip()
            for field in self
            if field.name.startswith(prefix)
        }


def rules_form(
    conditions: dict[str, list[tuple[str, str, list[tuple[str, str]]]]], **kwargs
) -> RulesForm:
    """A RulesForm for ``conditions``: {action: [(name, sentence, [(parameter, label)])]}."""

    class Form(RulesForm):
        pass

    Form.conditions = {action: [name for name, *_ in named] for action, named in conditions.items()}
    for action, named in conditions.items():
        for name, sentence, parameters in named:
            setattr(Form, rule_field(action, name), BooleanField(sentence))
            for parameter, label in parameters:
                setattr(Form, rule_field(action, name, parameter), StringField(label))
    return Form(**kwargs)
