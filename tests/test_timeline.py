"""A request's timeline page: for everyone who may see the request (404 for the rest),
oldest first, 100 events a page, keyset-paginated on the event id."""

import re

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.audit.service import record_event
from portal.db import session_scope
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.transparency.privacy import sight
from portal.transparency.timeline import request_timeline
from portal.transparency.words import detail_lines

from flows import PEOPLE
from helpers import sign_in

ROW = re.compile(r'<th scope="row">#(\d+)</th>')


def request_of(session, ref: str) -> AccessRequest:
    return session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()


def event_ids(app, ref: str) -> list[int]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        return list(
            session.exec(
                select(AuditEvent.id)
                .where(AuditEvent.request_id == request.id)
                .order_by(AuditEvent.id)
            )
        )


def add_events(app, ref: str, count: int) -> None:
    """Events about the request, written the one way events are written."""
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        cedar = get_nation(session, "red-cedar")
        for number in range(count):
            record_event(
                session,
                action="test.note",
                actor=None,
                request=request,
                nations=[cedar],
                details={"comment": f"note {number}"},
            )


@pytest.mark.parametrize(
    "who,status",
    [
        ("researcher", 200),
        ("coordinator", 200),
        ("cedar_steward1", 200),
        ("heron_rep", 404),  # the request does not touch Blue Heron's data
        ("other_researcher", 404),
        ("admin", 404),
    ],
)
def test_whoever_may_see_the_request_may_see_its_timeline(client, flow, who, status):
    ref = flow.draft(datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    sign_in(client, PEOPLE[who][0])
    assert client.get(f"/requests/{ref}/timeline").status_code == status
    assert client.get(f"/requests/{ref}").status_code == status


def test_the_timeline_reads_in_words_with_details(app, client, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="refuse", comment="Harm")
    with app.app_context(), session_scope() as session:
        record_event(
            session,
            action="test.visit",
            actor=None,
            request=request_of(session, ref),
            client_address="192.0.2.55",
        )
    sign_in(client, PEOPLE["cedar_rep"][0])
    page = client.get(f"/requests/{ref}/timeline").get_data(as_text=True)
    assert "Submitted" in page and "Accepted by screening" in page
    assert "Steward review recorded" in page and "recommendation: recommends refusal" in page
    assert "Blue Heron Métis (fictional), Red Cedar Nation (fictional)" in page  # by name
    # People by their names (the flow names them after their address), never the address.
    assert "s1.cedar" in page and PEOPLE["cedar_steward1"][0] not in page
    assert "192.0.2.55" not in page, "where people connect from is for the chain, not the page"


def test_long_timelines_come_a_hundred_events_a_page(app, client, flow):
    ref = flow.to_review()  # created, submitted, screened
    add_events(app, ref, 247)
    everything = event_ids(app, ref)
    assert len(everything) == 250
    sign_in(client, PEOPLE["researcher"][0])
    url, pages = f"/requests/{ref}/timeline", []
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append([int(n) for n in ROW.findall(page)])
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [i for p in pages for i in p] == everything
    # The request page shows the latest ten, newest first, and leads to all of them.
    show = client.get(f"/requests/{ref}").get_data(as_text=True)
    latest = show[show.index('id="timeline-h"') :]
    assert latest.count("<li><time") == 10
    assert f'href="/requests/{ref}/timeline">Every event, from the first' in show


def test_a_page_starts_after_the_event_named(app, flow):
    ref = flow.to_review()
    add_events(app, ref, 5)
    everything = event_ids(app, ref)
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        seen = sight(session, flow.user(session, "coordinator"), request)
        page = request_timeline(session, request, seen, after=everything[2], size=3)
        assert [e.event.id for e in page.entries] == everything[3:6]
        assert page.next_cursor == everything[5]
        last = request_timeline(session, request, seen, after=everything[5], size=3)
        assert [e.event.id for e in last.entries] == everything[6:]
        assert last.next_cursor is None
        # An event of another request is only a position: it never shows that request.
        assert request_timeline(session, request, seen, after=0, size=100).entries[0].ref == ref


@pytest.mark.parametrize("after", ["abc", "-3", "1.5", "²", "9" * 40])
def test_a_bad_cursor_is_named(client, flow, after):
    ref = flow.draft()
    sign_in(client, PEOPLE["researcher"][0])
    response = client.get(f"/requests/{ref}/timeline", query_string={"after": after})
    assert response.status_code == 400
    assert "after must be an event number" in response.get_data(as_text=True)


def test_after_the_last_event_the_page_says_so(client, flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    sign_in(client, PEOPLE["researcher"][0])
    page = client.get(f"/requests/{ref}/timeline?after=999999").get_data(as_text=True)
    assert "No events after event #999999" in page and "First events" in page
    draft = flow.draft()
    started = client.get(f"/requests/{draft}/timeline").get_data(as_text=True)
    assert "Draft started" in started and "Submitted" not in started


@pytest.mark.parametrize(
    "action,details,lines",
    [
        (
            "review.recorded",
            {"recommendation": None, "conflict_of_interest": True, "revision": 2},
            ["revision: 2", "conflict of interest declared"],
        ),
        (
            "decision.approved",
            {"reason": "", "conditions": [{"code": "custom", "text": "Elders first"}]},
            ["condition: Elders first"],
        ),
        (
            "nation.profile_changed",
            {"review_quorum": [2, 3], "residency": [["CA"], []]},
            ["residency: CA → none", "review quorum: 2 → 3"],
        ),
        (
            "role.granted",
            {"user": "a@example.org", "role": "steward"},
            ["role: steward", "person: a@example.org"],
        ),
        ("test.other", {"secret_key": "not shown"}, []),
    ],
)
def test_event_details_in_words(action, details, lines):
    assert detail_lines(action, details) == lines
