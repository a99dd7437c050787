"""What happens next, addressed to the person reading: their own step first ("You sign
next"), then whom the request waits for. Their steps are what available() offers them,
so the words follow the policy like the buttons; the rest follows each Nation's track."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from portal.agreements.view import AgreementView
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import TrackStatus
from portal.workflow import Option

if TYPE_CHECKING:  # the overview builds the track views and hands them here
    from portal.transparency.overview import TrackView

S = RequestStatus


def _nation_words(option: Option) -> str:
    return f" for {option.nation.name}" if option.nation else ""


def your_steps(req: AccessRequest, tracks: Sequence["TrackView"], options: list[Option]):
    """The reader's own next steps, in the order the workflow takes them."""
    deciding = {t.nation.id for t in tracks if t.track.status == TrackStatus.DECISION}
    actions = {option.action for option in options}
    steps = []
    if "submit" in actions:
        steps.append(
            "You revise the request and submit it again."
            if req.phase == S.CHANGES_REQUESTED
            else "You complete the draft and submit it."
        )
    if "screen" in actions:
        steps.append(
            "You screen this request next: accept it for the Nations' review, "
            "or return it to the researcher with what to change."
        )
    for option in options:
        if option.action == "review":
            steps.append(f"You review this request{_nation_words(option)} next.")
        elif option.action == "decide" and option.nation and option.nation.id in deciding:
            steps.append(
                f"You decide{_nation_words(option)} next: its stewards reached the quorum."
            )
        elif option.action == "sign":
            steps.append(f"You sign the agreement{_nation_words(option)} next.")
        elif option.action == "review_output":
            steps.append(f"You review an output before publication{_nation_words(option)}.")
        elif option.action == "decide_output":
            steps.append(f"You decide on an output's publication{_nation_words(option)}.")
    if reports := sum(option.action == "report_obligation" for option in options):
        noun = "obligation" if reports == 1 else "obligations"
        steps.append(f"You report on {reports} {noun} of this request (see Obligations).")
    return steps


def _waiting_for_tracks(tracks: Sequence["TrackView"]) -> list[str]:
    steps = []
    for view in tracks:
        name, status = view.nation.name, view.track.status
        if status == TrackStatus.REVIEW and view.stalled:
            steps.append(
                f"{name} cannot reach its quorum with its eligible stewards: its "
                "representative designates another steward."
            )
        elif status == TrackStatus.REVIEW and (missing := view.tally.reviews_missing):
            plural = "review" if missing == 1 else "reviews"
            steps.append(f"Waiting for {missing} more {name} steward {plural}.")
        elif status.is_open:
            steps.append(f"Waiting for {name}'s representative to decide.")
        elif status == TrackStatus.APPROVED:
            steps.append(f"{name} approved.")
        elif status == TrackStatus.ENDED:
            steps.append(f"{name}'s part ended: the current revision no longer uses its data.")
    return steps


def _waiting_for_signatures(agreement: AgreementView | None, researcher: bool) -> list[str]:
    if agreement is None:
        return ["Every Nation approved: the agreement is being prepared."]
    signing = agreement.pending or agreement  # a renewal's new edition, else the first
    missing = [line.party for line in signing.parties if line.signature is None]
    names = [
        f"{p.nation.name}'s representative"
        if p.nation
        else ("you" if researcher else "the researcher")
        for p in missing
    ]
    return [f"Every Nation approved. Waiting for signatures from: {', '.join(names)}."]


def _state_words(req: AccessRequest, researcher: bool, agreement: AgreementView | None) -> str:
    who = "you" if researcher else "the researcher"
    end = agreement.agreement.term_end.isoformat() if agreement else None
    return {
        S.DRAFT: f"A draft: nothing happens until {who} submit{'' if researcher else 's'} it.",
        S.SCREENING: "Waiting for a coordinator to screen the request.",
        S.CHANGES_REQUESTED: f"Waiting for {who} to revise the request and submit it again.",
        S.ACTIVE: f"Access is active under the signed agreement{f' until {end}' if end else ''}.",
        S.REFUSED: (
            f"Refused. {who.capitalize()} may file a new request without the refusing "
            "Nation's data."
        ),
        S.WITHDRAWN: "Withdrawn by the researcher: nothing more happens.",
        S.REVOKED: "Revoked: access ended at once.",
        S.EXPIRED: "Expired at the end of its term.",
        S.CLOSED: "Closed; the data was returned or destroyed.",
    }.get(req.status, "")


def next_steps(
    req: AccessRequest,
    tracks: Sequence["TrackView"],
    options: list[Option],
    *,
    researcher: bool,
    agreement: AgreementView | None = None,
) -> list[str]:
    """What the request waits for, the reader's own step first, in words read at a glance.
    ``researcher``: the reader filed the request (the steps that are theirs say "you")."""
    mine = your_steps(req, tracks, options)
    if req.phase == S.UNDER_REVIEW:
        return mine + _waiting_for_tracks(tracks)
    if req.phase == S.AWAITING_SIGNATURES:
        return mine + _waiting_for_signatures(agreement, researcher)
    if mine:
        return mine
    if req.amendment is not None:  # access continues while the amendment waits
        return [_state_words(req, researcher, agreement), _amendment_words(req, researcher)]
    return [_state_words(req, researcher, agreement)]


def _amendment_words(req: AccessRequest, researcher: bool) -> str:
    who = "you" if researcher else "the researcher"
    kind = "renewal" if req.amendment_kind and req.amendment_kind.value == "renew" else "amendment"
    return {
        S.DRAFT: f"A {kind} is being drafted: nothing changes until {who} submit"
        f"{'' if researcher else 's'} it.",
        S.SCREENING: f"Waiting for a coordinator to screen the {kind}.",
        S.CHANGES_REQUESTED: f"Waiting for {who} to revise the {kind} and submit it again.",
    }.get(req.phase, "")
