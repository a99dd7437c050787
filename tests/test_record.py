"""A Nation's record: who may read it (its stewards and representatives, and only its
own), what it holds (only its own part of each request), and its keyset pages."""

import re

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent, AuditEventNation
from portal.audit.service import record_event
from portal.db import session_scope
from portal.errors import Forbidden, ValidationError
from portal.registry.service import get_nation
from portal.transparency import record

from flows import PEOPLE
from helpers import sign_in

CEDAR, HERON = "red-cedar", "blue-heron"
PAGES = ("record", "record.csv", "record.pdf")

# (who, Nation, status) for the page and both downloads.
WHO_SEES_WHAT = [
    ("cedar_steward1", CEDAR, 200),
    ("cedar_rep", CEDAR, 200),
    ("heron_steward", HERON, 200),
    ("heron_rep", HERON, 200),
    ("cedar_steward1", HERON, 403),
    ("cedar_rep", HERON, 403),
    ("heron_steward", CEDAR, 403),
    ("heron_rep", CEDAR, 403),
    ("researcher", CEDAR, 403),
    ("coordinator", CEDAR, 403),
    ("admin", CEDAR, 403),
    ("admin", HERON, 403),
]


def downloads(app) -> list[AuditEvent]:
    with app.app_context(), session_scope() as session:
        found = list(
            session.exec(select(AuditEvent).where(AuditEvent.action == "nation.record_downloaded"))
        )
        session.expunge_all()
        return found


@pytest.mark.parametrize("who,nation,status", WHO_SEES_WHAT)
def test_only_the_nations_own_stewards_and_representatives_read_its_record(
    app, client, flow, who, nation, status
):
    sign_in(client, PEOPLE[who][0])
    for page in PAGES:
        response = client.get(f"/nations/{nation}/{page}")
        assert response.status_code == status, page
    # A refused download is not a download: nothing recorded.
    assert len(downloads(app)) == (2 if status == 200 else 0)


def test_an_unknown_nation_is_404_and_signing_in_comes_first(client, flow):
    assert client.get("/nations/red-cedar/record").status_code == 302
    sign_in(client, PEOPLE["cedar_steward1"][0])
    assert client.get("/nations/no-such-nation/record").status_code == 404


def test_the_service_refuses_readers_the_policy_refuses(app, flow):
    with app.app_context(), session_scope() as session:
        steward = flow.user(session, "cedar_steward1")
        record.require_reader(session, steward, get_nation(session, CEDAR))
        with pytest.raises(Forbidden, match="Only a steward of Blue Heron"):
            record.require_reader(session, steward, get_nation(session, HERON))


def decided_request(flow) -> str:
    """A two-Nation request each Nation approved with a condition of its own."""
    ref = flow.reviewed(title="Shared study (fictional)")
    flow.do("cedar_rep", "decide", ref, CEDAR, conditions=["Cedar-only condition text"])
    flow.do("heron_rep", "decide", ref, HERON, conditions=["Heron-only condition text"])
    return ref


def test_the_record_shows_only_the_nations_own_part_of_each_request(client, flow):
    shared = decided_request(flow)
    heron_only = flow.draft(title="Heron schools study (fictional)", datasets=["heron-schools"])
    flow.do("researcher", "submit", heron_only)
    draft = flow.draft(title="Unsubmitted cedar draft (fictional)", datasets=["cedar-health"])
    sign_in(client, PEOPLE["cedar_steward1"][0])
    page = client.get(f"/nations/{CEDAR}/record").get_data(as_text=True)
    assert shared in page and "Cedar-only condition text" in page
    assert "Awaiting signatures" in page
    assert "s1.cedar: recommends approval (revision 1)" in page
    assert "s2.cedar: recommends approval" in page
    # Blue Heron's reviews, decision, conditions and events are Blue Heron's.
    assert "Heron-only condition text" not in page
    assert PEOPLE["heron_steward"][0] not in page and "s.heron" not in page
    assert PEOPLE["heron_rep"][0] not in page
    assert heron_only not in page
    assert draft not in page, "drafts are the researcher's alone"


def test_the_record_speaks_french(client, flow):
    shared = decided_request(flow)
    sign_in(client, PEOPLE["cedar_steward1"][0])
    page = client.get(
        f"/nations/{CEDAR}/record", headers={"Accept-Language": "fr-CA,fr;q=0.9"}
    ).get_data(as_text=True)
    assert '<html lang="fr-CA"' in page
    assert "Registre : " in page and "Télécharger les demandes en PDF" in page
    assert shared in page and "Cedar-only condition text" in page, "user data stays as written"
    assert "(révision 1)" in page and "(revision 1)" not in page
    # The audit events, in words: what happened and the table's headings.
    assert "Événements consignés qui concernent" in page
    assert "<td>Soumise</td>" in page and "<td>Submitted</td>" not in page
    assert '<th scope="col">Ce qui s’est passé</th>' in page


def test_the_events_are_the_nations_own_newest_first(app, client, flow):
    ref = decided_request(flow)
    sign_in(client, PEOPLE["heron_rep"][0])
    page = client.get(f"/nations/{HERON}/record").get_data(as_text=True)
    shown = [int(n) for n in re.findall(r'<th scope="row">#(\d+)</th>', page)]
    with app.app_context(), session_scope() as session:
        heron = get_nation(session, HERON)
        expected = list(
            session.exec(
                select(AuditEventNation.event_id)
                .where(AuditEventNation.nation_id == heron.id)
                .order_by(AuditEventNation.event_id.desc())
            )
        )
    assert shown == expected
    assert "Approved by a Nation" in page and ref in page
    assert "Heron-only condition text" in page and "Cedar-only condition text" not in page


def submitted(flow, count: int, datasets=("cedar-health",)) -> list[str]:
    refs = []
    for number in range(count):
        ref = flow.draft(title=f"Study {number} (fictional)", datasets=list(datasets))
        flow.do("researcher", "submit", ref)
        refs.append(ref)
    return refs


def test_requests_are_keyset_paginated_newest_first(app, flow):
    refs = submitted(flow, 5)
    heron_only = submitted(flow, 1, datasets=("heron-schools",))[0]
    with app.app_context(), session_scope() as session:
        cedar = get_nation(session, CEDAR)
        pages, after = [], None
        while True:
            page = record.request_page(session, cedar, after, size=2)
            pages.append([row.request.ref for row in page.rows])
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert pages == [refs[4:2:-1], refs[2:0:-1], refs[:1]]
        assert [row.request.ref for row in record.all_rows(session, cedar, batch=2)] == refs[::-1]
        # A cursor must be a request of this record: nothing else is even confirmed to exist.
        for cursor in (heron_only, "R-0000-0000"):
            with pytest.raises(ValidationError, match="is not a request in Red Cedar"):
                record.request_page(session, cedar, cursor)


def requests_section(page: str) -> str:
    return page.split('<section aria-labelledby="requests-h">')[1].split("</section>")[0]


def test_the_page_follows_the_requests_cursor(client, flow, monkeypatch):
    refs = submitted(flow, 3)
    monkeypatch.setattr(record, "REQUESTS_PAGE", 2)  # a setting: two pages from three requests
    sign_in(client, PEOPLE["cedar_rep"][0])
    first = requests_section(client.get(f"/nations/{CEDAR}/record").get_data(as_text=True))
    assert refs[2] in first and refs[1] in first and refs[0] not in first
    link = re.search(r'href="([^"]*after=[^"]*)" rel="next">Older requests', first)
    second = requests_section(
        client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    )
    assert refs[0] in second and refs[1] not in second and "Older requests" not in second


def test_events_are_keyset_paginated_a_hundred_a_page(app, client, flow):
    with app.app_context(), session_scope() as session:
        cedar = get_nation(session, CEDAR)
        for number in range(130):
            record_event(
                session, action="test.note", actor=None, nations=[cedar], details={"n": number}
            )
    with app.app_context(), session_scope() as session:
        cedar = get_nation(session, CEDAR)
        everything = list(
            session.exec(
                select(AuditEventNation.event_id)
                .where(AuditEventNation.nation_id == cedar.id)
                .order_by(AuditEventNation.event_id.desc())
            )
        )
    sign_in(client, PEOPLE["cedar_steward2"][0])
    first = client.get(f"/nations/{CEDAR}/record").get_data(as_text=True)
    first_ids = [int(n) for n in re.findall(r'<th scope="row">#(\d+)</th>', first)]
    assert first_ids == everything[:100]
    link = re.search(r'href="([^"]*events_before=(\d+)[^"]*)" rel="next"', first)
    assert int(link.group(2)) == everything[99]
    second = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    second_ids = [int(n) for n in re.findall(r'<th scope="row">#(\d+)</th>', second)]
    assert second_ids == everything[100:]
    assert "Older events" not in second and "Newest events" in second


@pytest.mark.parametrize("query", ["events_before=abc", "events_before=-1", "events_before=1e3"])
def test_a_bad_events_cursor_is_named(client, flow, query):
    sign_in(client, PEOPLE["cedar_steward1"][0])
    response = client.get(f"/nations/{CEDAR}/record?{query}")
    assert response.status_code == 400
    assert "events_before must be an event number" in response.get_data(as_text=True)


def test_an_unknown_requests_cursor_is_named(client, flow):
    sign_in(client, PEOPLE["cedar_steward1"][0])
    response = client.get(f"/nations/{CEDAR}/record?after=R-ZZZZ-ZZZZ")
    assert response.status_code == 400
    assert "R-ZZZZ-ZZZZ is not a request in Red Cedar" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "who,links",
    [
        ("cedar_steward1", ["Record: Red Cedar Nation (fictional)"]),
        ("heron_rep", ["Record: Blue Heron Métis (fictional)"]),
        ("researcher", []),
        ("coordinator", []),
        ("admin", []),
    ],
)
def test_the_navigation_links_a_readers_own_record_only(client, flow, who, links):
    sign_in(client, PEOPLE[who][0])
    nav = client.get("/").get_data(as_text=True).split('<nav aria-label="Main">')[1]
    nav = nav.split("</nav>")[0]
    assert re.findall(r">(Record: [^<]+)</a>", nav) == links
