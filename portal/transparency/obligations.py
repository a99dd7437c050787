"""What each person reads of a request's obligations (invariant 9).

The Nation owed an obligation reads all of it: the condition, the researcher's reports
and its own assessment comment. The researcher reads the condition, their report and
the outcome; the comment only when the Nation chose to tell them. Coordinators and the
other Nations read that an obligation exists, its due date and its state (overdue or
not): never what a Nation asked for, what was reported, or what the Nation said of it.
"""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from portal.agreements.render import standard_words
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.errors import NotFound
from portal.i18n import current_language
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.lifecycle.models import Obligation
from portal.lifecycle.outputs import content
from portal.lifecycle.outputs.service import met_by_output_review
from portal.lifecycle.service import Overdue, overdue
from portal.policy.service import authorize
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews import due as dues
from portal.reviews.terms import catalogue_in_force
from portal.storage import service as storage
from portal.transparency.privacy import Sight, sight


@dataclass(frozen=True)
class ShownObligation:
    obligation: Obligation
    nation: Nation
    overdue: bool
    due: str  # when it falls due, in words
    text: str | None  # None: not the reader's to read (what the Nation asked)
    report: str | None
    comment: str | None  # the Nation's assessment comment
    report_file: bool = False  # a file came with the report, and the reader may read it
    # Met output by output through the Nation's review before publication: no report.
    through_outputs: bool = False
    # A periodic report not taken yet: the day it is, when its period's window opens.
    report_opens: date | None = None


def due_words(obligation: Obligation) -> str:
    due = dues.Due(
        obligation.due_kind,
        on=obligation.due_date,
        months=obligation.period_months,
        event=obligation.due_event,
    )
    return due.words


def show(
    obligation: Obligation,
    nation: Nation,
    seen: Sight,
    today: date,
    words: str | None = None,
    access_ended: date | None = None,
) -> ShownObligation:
    """``words``: what the Nation asked, in the reader's language (its text by default);
    ``access_ended``: the day access ended, if it did."""
    insider = seen.reads_deliberation(nation)
    sent = seen.reads_sent(nation)
    told = insider or (sent and obligation.tell_researcher)
    return ShownObligation(
        obligation,
        nation,
        lifecycle.is_overdue(obligation, today),
        due_words(obligation),
        (words or obligation.text) if sent else None,
        (obligation.report_text or None) if sent else None,
        (obligation.assessment_comment or None) if told else None,
        sent and obligation.report_file_digest is not None,
        met_by_output_review(obligation),
        lifecycle.report_not_yet(obligation, today, access_ended),
    )


def report_file(
    session: Session, viewer: User, request: AccessRequest, obligation_id: int
) -> tuple[str, str, bytes]:
    """(filename, media type, bytes) of the file sent with an obligation's report, for
    those who read the report: the researcher and the people of the Nation owed it.
    Anyone else, like an obligation without a file, gets NotFound (404). Each download
    is an event in the record of the Nation owed, as every file's download is."""
    obligation = lifecycle.find(session, request, obligation_id, lock=False)
    if obligation is None or obligation.report_file_digest is None:
        raise NotFound(f"{request.ref} has no report file for obligation {obligation_id}")
    nation = session.get(Nation, obligation.nation_id)
    if not sight(session, viewer, request).reads_sent(nation):
        raise NotFound(f"{request.ref} has no report file for obligation {obligation_id}")
    digest = obligation.report_file_digest
    media_type = storage.media_type_of(session, digest) or content.TEXT
    name = f"{request.ref}-obligation-{obligation.id}.{content.SUFFIXES.get(media_type, 'txt')}"
    data = storage.get(session, digest)
    record_event(
        session,
        action=EventType.OBLIGATION_FILE_DOWNLOADED,
        actor=viewer,
        request=request,
        nations=[nation],
        details={"obligation": obligation.id, "sha256": digest},
    )
    return name, media_type, data


def shown_obligations(
    session: Session, request: AccessRequest, seen: Sight, today: date | None = None
) -> list[ShownObligation]:
    today = today or date.today()
    catalogue, language = catalogue_in_force(session), current_language()
    ended = attestations.ended_day(session, request)
    shown = []
    for obligation in lifecycle.of_request(session, request):
        nation = session.get(Nation, obligation.nation_id)
        asked = {"code": obligation.source, "text": obligation.text}
        words = standard_words(asked, nation, request.storage_location, catalogue, language)
        shown.append(show(obligation, nation, seen, today, words, ended))
    return shown


@dataclass(frozen=True)
class OverdueLists:
    """The overdue obligations a home page shows: owed to the reader's Nations (for
    their own people), everyone's (for those who follow every request: the state only),
    and the reader's own to report. Each names its request, Nation and due date, never
    what the Nation asked or said."""

    owed_to_yours: list[Overdue]
    everyone: list[Overdue]
    yours_to_report: list[Overdue]

    def __bool__(self) -> bool:
        return bool(self.owed_to_yours or self.everyone or self.yours_to_report)


def overdue_for(session: Session, user: User, today: date | None = None) -> OverdueLists:
    today = today or date.today()
    own = [
        nation
        for nation in session.exec(select(Nation).order_by(Nation.name))
        if authorize(session, user, Action.VIEW_RECORD, nation=nation).allowed
    ]
    follows_all = authorize(session, user, Action.VIEW_DASHBOARD).allowed
    reports = authorize(session, user, Action.REPORT_OBLIGATION).allowed
    return OverdueLists(
        overdue(session, today, nations=own) if own else [],
        overdue(session, today) if follows_all else [],
        overdue(session, today, researcher_id=user.id) if reports else [],
    )
