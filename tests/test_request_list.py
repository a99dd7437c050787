"""The list of requests on the home page: a page at a time, newest change first, in one
state if asked, each page going on after the last of the one before; bad input answers
400 naming the parameter, and a reference one may not see is no cursor."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.auth.models import User
from portal.db import session_scope, utcnow
from portal.errors import ValidationError
from portal.requests.models import AccessRequest, RequestStatus
from portal.transparency.requestlist import LIST_PAGE, request_list
from portal.workflow import create_draft

from helpers import sign_in

ROWS = re.compile(r"<tr>\s*<td><code>(R-[0-9A-Z-]+)</code>")


def drafts(app, email: str, count: int) -> list[str]:
    """``count`` drafts of ``email``, each changed a minute after the one before: their
    references, most recently changed first."""
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        made = []
        for number in range(count):
            request = create_draft(session, user, {"title": f"Study {number} (fictional)"})
            request.updated_at = utcnow() - timedelta(minutes=count - number)
            session.add(request)
            made.append(request.ref)
        return made[::-1]


@pytest.fixture
def researcher(app, make_user):
    make_user("lists@example.org", "researcher")
    return "lists@example.org"


def test_pages_go_on_after_the_last_request_and_cover_each_once(app, researcher):
    refs = drafts(app, researcher, 5)
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == researcher)).one()
        seen, after = [], None
        while True:
            page = request_list(session, user, after=after, size=2)
            seen += [r.ref for r in page.requests]
            if page.next_cursor is None:
                break
            after = page.next_cursor
    assert seen == refs


def test_a_state_filters_the_list_and_bad_input_names_its_parameter(app, researcher, make_user):
    drafts(app, researcher, 2)
    make_user("other@example.org", "researcher")
    others = drafts(app, "other@example.org", 1)
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == researcher)).one()
        assert len(request_list(session, user, status="draft").requests) == 2
        assert request_list(session, user, status="under_review").requests == []
        with pytest.raises(ValidationError) as bad_status:
            request_list(session, user, status="pending")
        assert set(bad_status.value.errors) == {"status"}
        for cursor in (others[0], "R-0000-0000", "not-a-ref"):
            with pytest.raises(ValidationError) as bad_cursor:
                request_list(session, user, after=cursor)
            assert set(bad_cursor.value.errors) == {"after"}


def test_the_home_page_shows_a_page_and_links_to_the_older_ones(app, client, researcher):
    refs = drafts(app, researcher, LIST_PAGE + 1)
    sign_in(client, researcher)
    first = client.get("/").text
    assert ROWS.findall(first) == refs[:LIST_PAGE]
    older = re.search(r'href="(/\?after=R-[0-9A-Z-]+)#request-list" rel="next"', first)
    assert older and older.group(1).endswith(refs[LIST_PAGE - 1])
    second = client.get(older.group(1)).text
    assert ROWS.findall(second) == refs[LIST_PAGE:]
    assert 'rel="next"' not in second
    assert ROWS.findall(client.get("/?status=draft").text) == refs[:LIST_PAGE]
    assert ROWS.findall(client.get("/?status=active").text) == []


def test_the_home_page_refuses_a_bad_filter_or_cursor_with_400(app, client, researcher):
    drafts(app, researcher, 1)
    sign_in(client, researcher)
    answer = client.get("/?status=pending")
    assert answer.status_code == 400 and "status" in answer.text
    answer = client.get("/?after=R-0000-0000")
    assert answer.status_code == 400 and "R-0000-0000" in answer.text
    with app.app_context(), session_scope() as session:
        assert session.exec(select(AccessRequest)).first().status == RequestStatus.DRAFT
