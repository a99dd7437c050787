"""What happens next, addressed to the person reading: their own step first ("You sign
next"), then whom the request waits for. Their steps are what available() offers them,
so the words follow the policy like the buttons; the rest follows each Nation's track."""

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from portal.agreements.view import AgreementView
from portal.i18n import day
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import TrackStatus
from portal.workflow import Option

if TYPE_CHECKING:  # the overview builds the track views and hands them here
    from portal.transparency.overview import TrackView

S = RequestStatus


def _nation(option: Option) -> str | None:
    return option.nation.name if option.nation else None


def your_steps(req: AccessRequest, tracks: Sequence["TrackView"], options: list[Option]):
    """The reader's own next steps, in the order the workflow takes them."""
    deciding = {t.nation.id for t in tracks if t.track.status == TrackStatus.DECISION}
    actions = {option.action for option in options}
    steps = []
    if "attest_destruction" in actions:  # first: access has ended, the data must go
        steps.append(_("You attest the data's destruction or return next: access has ended."))
    if "submit" in actions:
        steps.append(
            _("You revise the request and submit it again.")
            if req.phase == S.CHANGES_REQUESTED
            else _("You complete the draft and submit it.")
        )
    if "screen" in actions:
        steps.append(
            _(
                "You screen this request next: accept it for the Nations' review, "
                "or return it to the researcher with what to change."
            )
        )
    for option in options:
        if option.action == "review":
            steps.append(
                _("You review this request for %(nation)s next.", nation=_nation(option))
                if option.nation
                else _("You review this request next.")
            )
        elif option.action == "decide" and option.nation and option.nation.id in deciding:
            steps.append(
                _(
                    "You decide for %(nation)s next: its stewards reached the quorum.",
                    nation=option.nation.name,
                )
            )
        elif option.action == "sign":
            steps.append(
                _("You sign the agreement for %(nation)s next.", nation=_nation(option))
                if option.nation
                else _("You sign the agreement next.")
            )
        elif option.action == "acknowledge_destruction":
            steps.append(
                _(
                    "You answer the researcher's destruction attestation for %(nation)s.",
                    nation=_nation(option),
                )
            )
        elif option.action == "review_output":
            steps.append(
                _(
                    "You review an output before publication for %(nation)s.",
                    nation=_nation(option),
                )
                if option.nation
                else _("You review an output before publication.")
            )
        elif option.action == "decide_output":
            steps.append(
                _(
                    "You decide on an output's publication for %(nation)s.",
                    nation=_nation(option),
                )
                if option.nation
                else _("You decide on an output's publication.")
            )
    if reports := sum(option.action == "report_obligation" for option in options):
        steps.append(
            _("You report on 1 obligation of this request (see Obligations).")
            if reports == 1
            else _(
                "You report on %(count)s obligations of this request (see Obligations).",
                count=reports,
            )
        )
    return steps


def _waiting_for_tracks(tracks: Sequence["TrackView"]) -> list[str]:
    steps = []
    for view in tracks:
        name, status = view.nation.name, view.track.status
        if status == TrackStatus.REVIEW and view.stalled:
            steps.append(
                _(
                    "%(nation)s cannot reach its quorum with its eligible stewards: its "
                    "representative designates another steward.",
                    nation=name,
                )
            )
        elif status == TrackStatus.REVIEW and (missing := view.tally.reviews_missing):
            steps.append(
                _("Waiting for 1 more %(nation)s steward review.", nation=name)
                if missing == 1
                else _(
                    "Waiting for %(count)s more %(nation)s steward reviews.",
                    count=missing,
                    nation=name,
                )
            )
        elif status.is_open:
            steps.append(_("Waiting for %(nation)s's representative to decide.", nation=name))
        elif status == TrackStatus.APPROVED:
            steps.append(_("%(nation)s approved.", nation=name))
        elif status == TrackStatus.ENDED:
            steps.append(
                _(
                    "%(nation)s's part ended: the current revision no longer uses its data.",
                    nation=name,
                )
            )
    return steps


def _waiting_for_signatures(agreement: AgreementView | None, researcher: bool) -> list[str]:
    if agreement is None:
        return [_("Every Nation approved: the agreement is being prepared.")]
    signing = agreement.pending or agreement  # a renewal's new edition, else the first
    missing = [line.party for line in signing.parties if line.signature is None]
    names = [
        _("%(nation)s's representative", nation=p.nation.name)
        if p.nation
        else (_("you") if researcher else _("the researcher"))
        for p in missing
    ]
    return [
        _("Every Nation approved. Waiting for signatures from: %(names)s.", names=", ".join(names))
    ]


def _state_words(
    req: AccessRequest, researcher: bool, agreement: AgreementView | None, ended_on: date | None
) -> str:
    end = day(agreement.agreement.term_end) if agreement else None  # as the pages write dates
    status = req.status
    if status == S.ACTIVE and ended_on is not None:  # closed early: active until answered
        return _(
            "Access ended on %(day)s, closed early by the researcher: the data is returned "
            "or destroyed, and each Nation answers the attestation of it.",
            day=day(ended_on),
        )
    if status == S.DRAFT:
        return (
            _("A draft: nothing happens until you submit it.")
            if researcher
            else _("A draft: nothing happens until the researcher submits it.")
        )
    if status == S.SCREENING:
        return _("Waiting for a coordinator to screen the request.")
    if status == S.CHANGES_REQUESTED:
        return (
            _("Waiting for you to revise the request and submit it again.")
            if researcher
            else _("Waiting for the researcher to revise the request and submit it again.")
        )
    if status == S.ACTIVE:
        if end:
            return _("Access is active under the signed agreement until %(day)s.", day=end)
        return _("Access is active under the signed agreement.")
    if status == S.REFUSED:
        return (
            _("Refused. You may file a new request without the refusing Nation's data.")
            if researcher
            else _(
                "Refused. The researcher may file a new request without the refusing Nation's data."
            )
        )
    return {
        S.WITHDRAWN: _("Withdrawn by the researcher: nothing more happens."),
        S.REVOKED: _("Revoked: access ended at once."),
        S.EXPIRED: _("Expired at the end of its term."),
        S.CLOSED: _("Closed; the data was returned or destroyed."),
    }.get(status, "")


def next_steps(
    req: AccessRequest,
    tracks: Sequence["TrackView"],
    options: list[Option],
    *,
    researcher: bool,
    agreement: AgreementView | None = None,
    ended_on: date | None = None,
) -> list[str]:
    """What the request waits for, the reader's own step first, in words read at a glance.
    ``researcher``: the reader filed the request (the steps that are theirs say "you");
    ``ended_on``: the day access ended, if it did."""
    mine = your_steps(req, tracks, options)
    if req.phase == S.UNDER_REVIEW:
        return mine + _waiting_for_tracks(tracks)
    if req.phase == S.AWAITING_SIGNATURES:
        return mine + _waiting_for_signatures(agreement, researcher)
    if mine:
        return mine
    if req.amendment is not None:  # access continues while the amendment waits
        words = _state_words(req, researcher, agreement, ended_on)
        return [words, _amendment_words(req, researcher)]
    return [_state_words(req, researcher, agreement, ended_on)]


def _amendment_words(req: AccessRequest, researcher: bool) -> str:
    renewal = bool(req.amendment_kind and req.amendment_kind.value == "renew")
    if req.phase == S.DRAFT:
        if renewal:
            return (
                _("A renewal is being drafted: nothing changes until you submit it.")
                if researcher
                else _(
                    "A renewal is being drafted: nothing changes until the researcher submits it."
                )
            )
        return (
            _("An amendment is being drafted: nothing changes until you submit it.")
            if researcher
            else _(
                "An amendment is being drafted: nothing changes until the researcher submits it."
            )
        )
    if req.phase == S.SCREENING:
        return (
            _("Waiting for a coordinator to screen the renewal.")
            if renewal
            else _("Waiting for a coordinator to screen the amendment.")
        )
    if req.phase == S.CHANGES_REQUESTED:
        if renewal:
            return (
                _("Waiting for you to revise the renewal and submit it again.")
                if researcher
                else _("Waiting for the researcher to revise the renewal and submit it again.")
            )
        return (
            _("Waiting for you to revise the amendment and submit it again.")
            if researcher
            else _("Waiting for the researcher to revise the amendment and submit it again.")
        )
    return ""
