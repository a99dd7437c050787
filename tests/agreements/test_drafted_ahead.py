"""The last approval's agreement is rendered before the write transaction (issue 14:
rendering and signing happen outside it), and kept only if the edition written says
exactly what was rendered; else it is rendered again. Real database, real WeasyPrint."""

from dataclasses import replace

from lifecycle.renewals import reviewed_afresh

from portal.agreements import service as agreements
from portal.db import READS_FIRST, session_scope, view_mode
from portal.workflow import Decide, perform, perform_ahead

from agreement_kit import pdf_text, rename, request_of
from flows import PEOPLE

DRAFTED = b"\n% rendered before the write transaction\n"


def ahead(app, flow, who: str, ref: str, command: Decide) -> Decide:
    """What an adapter does first: the checks and the slow part, writing nothing."""
    with app.app_context(), session_scope() as session:
        return perform_ahead(session, flow.user(session, who), ref, command)


def written(app, flow, ref: str, command: Decide) -> bytes:
    """perform() in its own transaction, as the adapter's write; the stored PDF."""
    with app.app_context(), session_scope() as session:
        perform(session, flow.user(session, "heron_rep"), ref, command)
    with app.app_context(), session_scope() as session:
        agreement = agreements.to_sign(session, request_of(session, ref))
        return agreements.stored_pdf(session, agreement)


def test_the_last_approval_keeps_the_agreement_rendered_ahead(app, flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=["aggregate_only"])
    last = Decide(nation="blue-heron", outcome="approve", conditions=("non_commercial",))
    command = ahead(app, flow, "heron_rep", ref, last)
    drafted = command.drafted
    assert drafted is not None and drafted.language == "en"
    text = pdf_text(drafted.pdf)
    # Rendered as it will read once the approval is written: both Nations, the last
    # one's conditions, which are not stored anywhere yet.
    assert "Red Cedar" in text and "Blue Heron" in text
    assert "commercial" in text
    # Marked, so the stored bytes tell which rendering was kept.
    marked = replace(drafted, pdf=drafted.pdf + DRAFTED)
    assert written(app, flow, ref, replace(command, drafted=marked)) == marked.pdf
    assert flow.status(ref) == "awaiting_signatures"


def test_an_agreement_rendered_before_a_change_is_rendered_again(app, flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    command = ahead(app, flow, "heron_rep", ref, Decide(nation="blue-heron", outcome="approve"))
    assert "Renamed Meanwhile" not in pdf_text(command.drafted.pdf)
    rename(app, PEOPLE["researcher"][0], "Renamed Meanwhile", "Fictional Institute")
    marked = replace(command.drafted, pdf=command.drafted.pdf + DRAFTED)
    stored = written(app, flow, ref, replace(command, drafted=marked))
    assert DRAFTED not in stored
    assert "Renamed Meanwhile" in pdf_text(stored)


def test_an_approval_that_is_not_the_last_renders_nothing(app, flow):
    ref = flow.reviewed()
    first = Decide(nation="red-cedar", outcome="approve")
    assert ahead(app, flow, "cedar_rep", ref, first).drafted is None
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    refusal = Decide(nation="blue-heron", outcome="refuse", reason="Not now.")
    assert ahead(app, flow, "heron_rep", ref, refusal).drafted is None


def test_the_pages_and_the_api_decide_outside_the_write_lock(app):
    for endpoint in ("reviews.decide", "api.decide"):
        assert view_mode(app.view_functions[endpoint]) == READS_FIRST, endpoint


def test_an_amendments_edition_is_rendered_ahead_too(app, flow):
    ref = flow.active()
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, title="Amended: housing and health, 2010-2025")
    reviewed_afresh(flow, ref)
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    command = ahead(app, flow, "heron_rep", ref, Decide(nation="blue-heron", outcome="approve"))
    drafted = pdf_text(command.drafted.pdf)
    assert "Amended: housing and health" in drafted and "revision 2, edition 2;" in drafted
    marked = replace(command.drafted, pdf=command.drafted.pdf + DRAFTED)
    assert written(app, flow, ref, replace(command, drafted=marked)) == marked.pdf
    with app.app_context(), session_scope() as session:
        edition = agreements.to_sign(session, request_of(session, ref))
        assert (edition.edition, edition.status.value) == (2, "awaiting_signatures")
