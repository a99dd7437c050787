"""The forms of the proposal pages: a new proposal, a Nation's answer, withdrawing."""

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField

from portal.policy.models import Vote
from portal.webforms import PageForm


def _lines(text: str | None) -> list[list[str]]:
    """The rows of a text area as policy lines: ["p2", "*", "approve", "..."]."""
    rows = (text or "").splitlines()
    return [[word.strip() for word in row.split(",")] for row in rows if row.strip()]


class ProposalForm(PageForm):
    title = StringField(_l("What the change is, in a few words"))
    explanation = TextAreaField(_l("Why the member Nations should approve it"))
    nation = SelectField(_l("You propose it"), choices=[], validate_choice=False)
    lines_add = TextAreaField(_l("Policy lines to add"))
    lines_remove = TextAreaField(_l("Policy lines to remove"))
    condition_code = StringField(_l("Code of the standard condition"))
    condition_label = StringField(_l("Its label"))
    condition_text = TextAreaField(_l("Its text"))
    condition_remove = BooleanField(_l("Remove this standard condition"))
    clause_code = StringField(_l("Code of the agreement's standard clause"))
    clause_title = StringField(_l("Its title"))
    clause_text = TextAreaField(_l("Its text"))
    clause_text_if_none = TextAreaField(_l("Its text when no Nation asks for it (if it has one)"))

    # Where each part of the service's errors is shown.
    FIELD_OF = {"title": "title", "explanation": "explanation", "nation": "nation"}

    def changes(self) -> dict[str, Any]:
        """The change set as typed (portal/policy/versions.py); the service checks it."""
        changes: dict[str, Any] = {}
        add, remove = _lines(self.lines_add.data), _lines(self.lines_remove.data)
        if add or remove:
            changes["lines"] = {"add": add, "remove": remove}
        if code := (self.condition_code.data or "").strip():
            entry = {
                "label": self.condition_label.data or "",
                "text": self.condition_text.data or "",
            }
            changes["catalogue"] = {code: None if self.condition_remove.data else entry}
        if code := (self.clause_code.data or "").strip():
            clause = {"title": self.clause_title.data or "", "text": self.clause_text.data or ""}
            if if_none := (self.clause_text_if_none.data or "").strip():
                clause["text_if_none"] = if_none
            changes["clauses"] = {code: clause}
        return changes

    def show_errors(self, errors: dict[str, str]) -> None:
        """The service's errors by the fields they concern; the rest for the whole form."""
        lines = (
            self.lines_add
            if self.lines_add.data or not self.lines_remove.data
            else self.lines_remove
        )
        where = {
            **{name: getattr(self, field) for name, field in self.FIELD_OF.items()},
            "lines": lines,
            "catalogue": self.condition_code,
            "clauses": self.clause_code,
        }
        for name, message in errors.items():
            if name == "changes" and not self.changes():
                message = str(
                    _l("Give at least one change: a policy line, a standard condition or a clause.")
                )
            if (field := where.get(name)) is not None:
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)


class VoteForm(PageForm):
    nation = SelectField(_l("You answer for"), choices=[], validate_choice=False)
    vote = RadioField(
        _l("Your Nation's answer"),
        choices=[
            (Vote.APPROVE.value, _l("Approve the change")),
            (Vote.OBJECT.value, _l("Object to it")),
        ],
        validate_choice=False,  # the workflow checks the answer (after who may give it)
    )
    comment = TextAreaField(_l("Comment (optional)"))


class WithdrawForm(PageForm):
    """Its CSRF token is all it carries."""
