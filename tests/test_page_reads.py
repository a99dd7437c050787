"""What a page reads: once per transaction (TransactionCache), forgotten at a change;
and a page (a GET) neither waits for nor takes SQLite's write lock."""

import pytest
import sqlalchemy as sa
from sqlmodel import select

from portal.auth.models import User
from portal.db import READ_SNAPSHOT, WriteWhileReading, session_scope
from portal.policy.access import get_visible
from portal.requests.models import AccessRequest
from portal.reviews.models import Recommendation, Review
from portal.reviews.service import current_reviews, tracks_of

from helpers import ON_POSTGRES, sign_in


def _request(session, ref: str) -> AccessRequest:
    return session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()


def _cedar(session, request):
    return next(
        nation for _track, nation in tracks_of(session, request) if nation.slug == "red-cedar"
    )


def test_a_review_added_in_the_transaction_is_counted_at_once(app, flow):
    ref = flow.to_review()
    with app.app_context(), session_scope() as session:
        request = _request(session, ref)
        cedar = _cedar(session, request)
        assert current_reviews(session, request, cedar) == []  # read, and kept
        steward = flow.user(session, "cedar_steward1")
        session.add(
            Review(request_id=request.id, nation_id=cedar.id, revision=request.current_revision,
                   steward_id=steward.id, recommendation=Recommendation.APPROVE)
        )  # fmt: skip
        assert [r.steward_id for r in current_reviews(session, request, cedar)] == [steward.id]
        session.rollback()


@pytest.mark.skipif(not ON_POSTGRES, reason="on SQLite a transition's lock excludes the writer")
def test_locking_a_request_reads_what_committed_before_the_lock(app, flow):
    ref = flow.to_review()
    with app.app_context(), session_scope() as session:
        request = _request(session, ref)
        cedar = _cedar(session, request)
        assert current_reviews(session, request, cedar) == []
        flow.do("cedar_steward1", "review", ref, "red-cedar")  # another transaction
        coordinator = flow.user(session, "coordinator")
        locked = get_visible(session, coordinator, ref, for_update=True)
        assert len(current_reviews(session, locked, cedar)) == 1


def test_the_home_and_request_pages_answer_while_a_transition_holds_the_write_lock(
    app, flow, client
):
    ref = flow.to_review()
    sign_in(client, "s1.cedar@example.org")
    engine = app.extensions["portal.db"]
    with engine.connect() as writer:
        writer.exec_driver_sql("SELECT 1")  # on SQLite: BEGIN IMMEDIATE, the write lock
        if ON_POSTGRES:
            writer.exec_driver_sql("LOCK TABLE access_request IN EXCLUSIVE MODE")
        home = client.get("/")
        page = client.get(f"/requests/{ref}")
        writer.rollback()
    assert home.status_code == 200 and ref in home.get_data(as_text=True)
    assert page.status_code == 200 and "Wellbeing of children" in page.get_data(as_text=True)


def test_a_read_only_connection_refuses_to_write(app, flow):
    with app.app_context(), session_scope() as session:
        session.connection(execution_options={READ_SNAPSHOT: True})
        with pytest.raises(WriteWhileReading):
            session.execute(sa.update(User).values(name="changed"))
