"""Downloads of a Nation's record, as CSV and as PDF. Flush, never commit.

Every download is an audit event ("nation.record_downloaded") that concerns the
Nation, so it shows in the record itself: who took a copy, when, in which form
(ARCHITECTURE.md invariant 7).
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import ValidationError
from portal.registry.models import Nation
from portal.reviews.models import Outcome, Recommendation, Review
from portal.transparency.record import RecordRow, all_rows, require_reader

DOWNLOAD_ACTION = EventType.NATION_RECORD_DOWNLOADED
FORMATS = ("csv", "pdf")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# such cells get a leading apostrophe, which spreadsheets show as plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A steward's recommendation as the record's downloads write it, in one word.
RECOMMENDATION_WORDS = {
    Recommendation.APPROVE: _l("approve"),
    Recommendation.REFUSE: _l("refuse"),
    Recommendation.CHANGES: _l("changes"),
}


@dataclass
class RecordDocument:
    nation: Nation
    rows: list[RecordRow]
    generated_at: datetime
    generated_by: User


def export_record(session: Session, user: User, nation: Nation, form: str) -> RecordDocument:
    """The whole record, for a download in ``form``; records the download."""
    if form not in FORMATS:
        raise ValidationError({"format": _("Choose csv or pdf.")})
    require_reader(session, user, nation)
    rows = list(all_rows(session, nation, reader=user))
    record_event(
        session,
        action=DOWNLOAD_ACTION,
        actor=user,
        nations=[nation],
        details={"format": form, "requests": len(rows)},
    )
    return RecordDocument(nation, rows, utcnow(), user)


def review_text(review: Review, steward: User) -> str:
    said = RECOMMENDATION_WORDS.get(review.recommendation, review.recommendation)
    if review.conflict_of_interest:
        said = _("declared a conflict of interest")
    return _(
        "%(steward)s (%(said)s, revision %(revision)s)",
        steward=steward.name,
        said=said,
        revision=review.revision,
    )


def conditions_of(row: RecordRow) -> list[dict]:
    return row.decision.conditions if row.decision else []


def decision_text(row: RecordRow) -> str:
    if row.decision is None:
        return ""
    return _("Approved") if row.decision.outcome == Outcome.APPROVE else _("Refused")


CSV_COLUMNS = (
    ("reference", lambda r: r.request.ref),
    ("title", lambda r: r.request.title),
    ("purpose", lambda r: r.request.purpose),
    ("researcher", lambda r: r.researcher.name),
    ("institution", lambda r: r.researcher.institution),
    ("team", lambda r: "; ".join(str(m.get("name", "")) for m in r.request.team)),
    ("datasets", lambda r: "; ".join(d.title for d in r.datasets)),
    ("storage location", lambda r: r.request.storage_location),
    ("retention days", lambda r: r.request.retention_days),
    ("request status", lambda r: r.request.status.label),
    ("the Nation's review", lambda r: r.nation_status),
    ("reviewed by", lambda r: "; ".join(review_text(rv, who) for rv, who in r.reviews)),
    ("decision", decision_text),
    ("decided by", lambda r: r.decided_by.name if r.decided_by else ""),
    ("decided on", lambda r: r.decision.decided_at.date() if r.decision else ""),
    ("reason", lambda r: r.decision.reason if r.decision else ""),
    # One condition a line, in one quoted cell: a condition's own ";" stays its own.
    ("conditions", lambda r: "\n".join(c["text"] for c in conditions_of(r))),
    ("agreement", lambda r: r.agreement or ""),
    ("start", lambda r: r.start or ""),
    ("expiry", lambda r: r.expiry or ""),
    ("ended", lambda r: r.ended or ""),
    ("revocation reason", lambda r: r.revocation_reason),
)  # fmt: skip


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(document: RecordDocument) -> str:
    """One row per request, with a header row. Every cell is text made safe to open in
    a spreadsheet (see FORMULA_STARTS)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for row in document.rows:
        writer.writerow([safe_cell(value(row)) for _, value in CSV_COLUMNS])
    return out.getvalue()
