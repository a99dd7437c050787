"""The portal-wide rule changes: the list, a new proposal, a proposal's page with the
member Nations' answers, answering for a Nation and withdrawing. Who may do what is
the workflow's (portal/workflow/proposals.py) and the policy's to say."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.db import get_session
from portal.errors import Forbidden, Refused, ValidationError
from portal.policy.models import ProposalStatus
from portal.policy.service import authorize
from portal.policy.vocabulary import Action
from portal.proposals.forms import ProposalForm, VoteForm, WithdrawForm
from portal.registry.service import list_nations
from portal.transparency.proposals import listing, view
from portal.transparency.rulebook import require_rules_reader
from portal.workflow.proposals import (
    Propose,
    VoteOnProposal,
    WithdrawProposal,
    find,
    govern,
)

bp = Blueprint("proposals", __name__, url_prefix="/rules/proposals")
# A proposal's state as a flash message says it ("The proposal is applied.").
STATUS_WORDS = {
    ProposalStatus.OPEN: _l("open"),
    ProposalStatus.APPLIED: _l("applied"),
    ProposalStatus.REJECTED: _l("rejected"),
    ProposalStatus.WITHDRAWN: _l("withdrawn"),
}


@bp.before_request
@login_required
def _members_only():
    """The proposals are the rules' own history: read by whoever may read the rules."""
    require_rules_reader(get_session(), current_user)


@bp.route("")
@login_required
def index():
    session = get_session()
    views = [view(session, current_user, proposal) for proposal in listing(session)]
    may_propose = bool(_speaking_for())
    return render_template("proposals/index.html", views=views, may_propose=may_propose)


def _speaking_for() -> list[tuple[str, str]]:
    """As whom the signed-in person may propose: portal-wide, or for a Nation of theirs."""
    session = get_session()
    choices = []
    if authorize(session, current_user, Action.PROPOSE_RULES).allowed:
        choices.append(("", _("Portal-wide, as an administrator")))
    for nation in list_nations(session):
        if authorize(session, current_user, Action.PROPOSE_RULES, nation=nation).allowed:
            choices.append((nation.slug, _("For %(nation)s", nation=nation.name)))
    return choices


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    choices = _speaking_for()
    if not choices:
        raise Forbidden(
            _("Only an administrator or a Nation's representative may propose a change.")
        )
    form = ProposalForm()
    form.nation.choices = choices
    if form.validate_on_submit():
        command = Propose(
            title=form.title.data or "",
            explanation=form.explanation.data or "",
            changes=form.changes(),
            nation_slug=form.nation.data or None,
        )
        try:
            proposal = govern(get_session(), current_user, command)
        except ValidationError as error:
            form.show_errors(error.errors)
        except Refused as refusal:
            form.form_errors.append(refusal.message)
        else:
            flash(
                _("Your proposal is made: the member Nations' representatives are told."),
                "success",
            )
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    status = 422 if form.is_submitted() else 200
    return render_template("proposals/new.html", form=form), status


def _page(proposal_id: int, vote_form: VoteForm | None = None, refusal: str | None = None):
    session = get_session()
    shown = view(session, current_user, find(session, proposal_id))
    if vote_form is None:
        vote_form = VoteForm(formdata=None)
    vote_form.nation.choices = [(n.slug, n.name) for n in shown.may_vote_for]
    html = render_template(
        "proposals/show.html",
        view=shown,
        vote_form=vote_form,
        withdraw_form=WithdrawForm(formdata=None),
        refusal=refusal,
    )
    has_errors = refusal or any(field.errors for field in vote_form) or vote_form.form_errors
    return html, (409 if refusal else 422) if has_errors else 200


@bp.route("/<int:proposal_id>")
@login_required
def show(proposal_id: int):
    return _page(proposal_id)


@bp.route("/<int:proposal_id>/votes", methods=["POST"])
@login_required
def vote(proposal_id: int):
    # The workflow reads the answer after asking who may give it (403) and whether the
    # proposal still takes answers (409), so the form is handed over whole.
    form = VoteForm()
    data = (form.nation.data or "", form.vote.data or "", form.comment.data or "")
    try:
        proposal = govern(get_session(), current_user, VoteOnProposal(proposal_id, *data))
    except ValidationError as error:
        for name, message in error.errors.items():
            getattr(form, name, form.vote).errors = [message]
    except Refused as refusal:
        return _page(proposal_id, form, refusal.message)
    else:
        flash(
            _(
                "Your Nation's answer is recorded. The proposal is %(status)s.",
                status=STATUS_WORDS.get(proposal.status, proposal.status.value),
            ),
            "success",
        )
        return redirect(url_for("proposals.show", proposal_id=proposal_id))
    return _page(proposal_id, form)


@bp.route("/<int:proposal_id>/withdraw", methods=["POST"])
@login_required
def withdraw(proposal_id: int):
    try:  # the form carries its CSRF token only, which CSRFProtect checked
        govern(get_session(), current_user, WithdrawProposal(proposal_id))
    except Refused as refusal:
        return _page(proposal_id, refusal=refusal.message)
    flash(_("Your proposal is withdrawn. It stays on the record."), "success")
    return redirect(url_for("proposals.show", proposal_id=proposal_id))
