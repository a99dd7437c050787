"""Who hears about each step. Whoever may act next is asked of available() (through
``who_may``), so the mail follows the policy like the buttons and the queues; the
researcher hears every outcome; those who follow every request (the policy's ``view``
portal-wide: coordinators) hear how it ends, never a Nation's deliberations
(invariant 9). Messages go to the outbox in the transition's own transaction.

Handlers name the notice (ctx.tell); perform() calls the function of that name here.
When access starts or ends, and when every Nation acknowledged the data's destruction
(``access.destroyed``), the datasets' custodians are told too, by a signed notice
(portal/workflow/custodian_notices.py), queued here in the same transaction."""

from sqlmodel import Session

from portal.auth.models import User
from portal.conversations import service as conversations
from portal.conversations.service import Thread
from portal.notify.service import queue
from portal.policy.access import holders_reaching
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.service import tracks_of
from portal.workflow import messaging
from portal.workflow.custodian_notices import tell_custodians
from portal.workflow.lifecycle_notices import (  # noqa: F401 (perform() finds them here)
    obligation_assessed,
    obligation_reported,
    output_decided,
    output_ready_for_decision,
    output_submitted,
)
from portal.workflow.offers import who_may


def _researcher(session: Session, request: AccessRequest) -> list[User]:
    return [session.get(User, request.researcher_id)]


def _followers(session: Session, request: AccessRequest) -> list[User]:
    """Who follows the request portal-wide, the researcher aside."""
    people = holders_reaching(session, request, Action.VIEW, None)
    return [person for person in people if person.id != request.researcher_id]


def _nation_people(session: Session, request: AccessRequest, nation: Nation) -> list[User]:
    """The Nation's own people: those who read its record."""
    return holders_reaching(session, request, Action.VIEW_RECORD, nation)


def submitted(session: Session, request: AccessRequest) -> None:
    queue(session, who_may(session, request, "screen", None), "to_screen", request)
    queue(session, _researcher(session, request), "submitted", request)


def returned(session: Session, request: AccessRequest, reason: str, comment: str) -> None:
    queue(
        session, _researcher(session, request), "returned", request, reason=reason, comment=comment
    )


def accepted(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    for nation in nations:
        stewards = who_may(session, request, "review", nation)
        queue(session, stewards, "to_review", request, nation=nation)
    queue(session, _researcher(session, request), "accepted", request, nations=nations)


def changes_requested(session: Session, request: AccessRequest, nation: Nation, comment: str):
    researcher = _researcher(session, request)
    queue(session, researcher, "changes_requested", request, nation=nation, comment=comment)


def ready_for_decision(session: Session, request: AccessRequest, nation: Nation) -> None:
    deciders = who_may(session, request, "decide", nation)
    queue(session, deciders, "to_decide", request, nation=nation)


def approved(session: Session, request: AccessRequest, nation: Nation) -> None:
    queue(session, _researcher(session, request), "approved", request, nation=nation)


def all_approved(session: Session, request: AccessRequest) -> None:
    queue(session, _researcher(session, request), "all_approved", request)


def refused(session: Session, request: AccessRequest, nation: Nation, reason: str) -> None:
    queue(session, _researcher(session, request), "refused", request, nation=nation, reason=reason)
    queue(session, _followers(session, request), "refused", request, nation=nation, reason="")


def withdrawn(session: Session, request: AccessRequest, reason: str) -> None:
    queue(session, _followers(session, request), "withdrawn", request, reason=reason)


def revoked(
    session: Session, request: AccessRequest, nation: Nation, reason: str, was_active: bool = False
) -> None:
    queue(session, _researcher(session, request), "revoked", request, nation=nation, reason=reason)
    queue(session, _followers(session, request), "revoked", request, nation=nation, reason="")
    if was_active:  # before the last signature, no access had started: nothing to end
        tell_custodians(session, request, "access.ended")


def track_ended(session: Session, request: AccessRequest, nation: Nation) -> None:
    queue(session, _nation_people(session, request, nation), "track_ended", request, nation=nation)


def to_sign(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    for nation in nations:
        signers = who_may(session, request, "sign", nation)
        queue(session, signers, "to_sign", request, nation=nation)


def _everyone(session: Session, request: AccessRequest, nations: list[Nation]) -> list[User]:
    people = _researcher(session, request) + _followers(session, request)
    for nation in nations:
        people += _nation_people(session, request, nation)
    return people


def active(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    queue(session, _everyone(session, request, nations), "active", request)
    tell_custodians(session, request, "access.started")


def expired(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    queue(session, _everyone(session, request, nations), "expired", request)
    tell_custodians(session, request, "access.ended")


def message_posted(session: Session, request: AccessRequest, thread: Thread, message) -> None:
    """Everyone else who may read the thread. Mail names no one who wrote for a Nation
    (its people read the names on the thread's page), and carries no message."""
    readers = [p for p in messaging.readers(session, request, thread) if p.id != message.author_id]
    # Written for the Nation: the mail names the Nation, no one in it.
    writer = thread.nation if message.as_nation else session.get(User, message.author_id)
    title = conversations.title(thread)
    queue(
        session, readers, "message_posted", request, thread=thread, title=title, author=writer.name
    )


# The end (workflow/ending.py). When every Nation acknowledged the destruction, the
# custodians hear ``access.destroyed``.
def access_ended(session: Session, request: AccessRequest, nations: list[Nation], ending) -> None:
    """Closed early: access ends as on expiry, for the custodians too."""
    queue(session, _everyone(session, request, nations), "access_ended", request)
    tell_custodians(session, request, "access.ended")


def destruction_attested(
    session: Session, request: AccessRequest, nations: list[Nation], attestation
) -> None:
    for nation in nations:
        answerers = who_may(session, request, "acknowledge_destruction", nation)
        queue(session, answerers, "to_acknowledge", request, nation=nation)


def destruction_answered(
    session: Session, request: AccessRequest, nation: Nation, outcome: str, comment: str
) -> None:
    """The researcher reads the Nation's answer and comment; no one else (invariant 9)."""
    queue(
        session, _researcher(session, request), "destruction_answered", request,
        nation=nation, outcome=outcome, comment=comment,
    )  # fmt: skip


def closed(session: Session, request: AccessRequest, nations: list[Nation]) -> None:
    queue(session, _everyone(session, request, nations), "closed", request)
    tell_custodians(session, request, "access.destroyed")


# Renewal and amendment (workflow/amending.py). The screening, reviews, decisions and
# signatures of an amendment are mailed by the functions above, like a revision's.
def access_changed(
    session: Session, request: AccessRequest, nations: list[Nation], dropped: list[str]
) -> None:
    """A new edition is in force: everyone concerned, and the custodians, hear it; the
    custodian of a dataset the new revision no longer uses hears that its access ended."""
    queue(session, _everyone(session, request, nations), "access_changed", request)
    tell_custodians(session, request, "access.changed")
    if dropped:
        tell_custodians(session, request, "access.ended", only=dropped)


def amendment_ended(
    session: Session,
    request: AccessRequest,
    outcome: str,
    nation: Nation | None,
    reason: str,
    what: str | None,
) -> None:
    """The researcher reads a refusing Nation's reasons; everyone else who took part
    reads that the amendment ended, and how, never the reasons (invariant 9)."""
    context = {"outcome": outcome, "nation": nation, "kind": what}
    queue(session, _researcher(session, request), "amendment_ended", request, **context,
          reason=reason)  # fmt: skip
    others = _followers(session, request)
    for _track, taking_part in tracks_of(session, request):
        others += _nation_people(session, request, taking_part)
    queue(session, others, "amendment_ended", request, **context, reason="")
