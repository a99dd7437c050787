"""Who hears about outputs and obligations once access began (issue 11). As in
notices.py, whoever may act next is asked of available() (``who_may``), so the mail
follows the policy; the researcher hears each Nation's outcome and what it sent, never
its deliberations: no steward's name, recommendation or comment, and an assessment's
comment only when the Nation chose to tell the researcher (invariant 9). perform()
finds these through portal.workflow.notices, which imports them."""

from sqlmodel import Session

from portal.auth.models import User
from portal.lifecycle.models import Obligation
from portal.lifecycle.outputs.models import ResearchOutput
from portal.notify.service import queue
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.workflow.commands import ReviewOutput
from portal.workflow.offers import may_do, who_may


def _researcher(session: Session, request: AccessRequest) -> list[User]:
    return [session.get(User, request.researcher_id)]


def output_submitted(
    session: Session, request: AccessRequest, output: ResearchOutput, nations: list[Nation]
) -> None:
    """Each Nation that asked to review outputs: whoever may review this one for it."""
    for nation in nations:
        probe = ReviewOutput(output.id, nation.slug)
        stewards = [
            person
            for person in who_may(session, request, "review_output", nation)
            if may_do(session, person, request, probe, nation)
        ]
        queue(session, stewards, "output_to_review", request, output=output, nation=nation)


def output_ready_for_decision(
    session: Session, request: AccessRequest, output: ResearchOutput, nation: Nation
) -> None:
    deciders = who_may(session, request, "decide_output", nation)
    queue(session, deciders, "output_to_decide", request, output=output, nation=nation)


def output_decided(
    session: Session,
    request: AccessRequest,
    output: ResearchOutput,
    nation: Nation,
    outcome: str,
    reason: str,
) -> None:
    """The researcher reads the Nation's decision and its reasons, and where the output
    now stands (cleared once every asking Nation approved)."""
    queue(
        session, _researcher(session, request), "output_decided", request,
        output=output, nation=nation, outcome=outcome, reason=reason,
    )  # fmt: skip


def obligation_reported(
    session: Session, request: AccessRequest, obligation: Obligation, nation: Nation
) -> None:
    """The people of the Nation owed it who may assess it (its stewards and
    representatives, the requesting side excluded by the policy)."""
    assessors = who_may(session, request, "assess_obligation", nation, obligation=obligation)
    queue(session, assessors, "obligation_reported", request, obligation=obligation, nation=nation)


def obligation_assessed(
    session: Session, request: AccessRequest, obligation: Obligation, nation: Nation
) -> None:
    """The researcher: the outcome, and the comment only if the Nation told them."""
    comment = obligation.assessment_comment if obligation.tell_researcher else ""
    queue(
        session, _researcher(session, request), "obligation_assessed", request,
        obligation=obligation, nation=nation, comment=comment,
    )  # fmt: skip
