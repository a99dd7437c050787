"""Lists are pages {items, next_cursor}: every item once, in order, whatever the page
size; cursors are the API's own; the status filter narrows the requests."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.db import session_scope, utcnow
from portal.requests.models import AccessRequest

from apis import problem


def walk(api, who, path, **query) -> list[dict]:
    """Every item of a list, following next_cursor page by page."""
    items, cursor = [], None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        page = api.get(who, path, query_string=params).get_json()
        assert len(page["items"]) <= query.get("limit", 50)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
@pytest.mark.parametrize("same_time", [False, True], ids=["distinct times", "one time for all"])
def test_requests_are_paged_without_gaps_or_repeats(app, api, flow, limit, same_time):
    refs = [flow.draft(title=f"Draft {n} (fictional)") for n in range(6)]
    with app.app_context(), session_scope() as session:
        moment = utcnow()
        for n, req in enumerate(session.exec(select(AccessRequest).order_by(AccessRequest.id))):
            # With one time for all, only the id orders them: the cursor must carry it.
            req.updated_at = moment if same_time else moment - timedelta(minutes=n)
    listed = [item["ref"] for item in walk(api, "researcher", "/requests", limit=limit)]
    assert sorted(listed) == sorted(refs) and len(listed) == len(refs)
    expected = list(reversed(refs)) if same_time else refs  # most recently changed first
    assert listed == expected


def test_the_status_filter(api, flow):
    drafts = {flow.draft(), flow.draft()}
    submitted = flow.draft()
    flow.do("researcher", "submit", submitted)
    assert {i["ref"] for i in walk(api, "researcher", "/requests", status="draft")} == drafts
    screening = walk(api, "researcher", "/requests", status="screening")
    assert [i["ref"] for i in screening] == [submitted]
    assert walk(api, "researcher", "/requests", status="active") == []


def test_the_registry_is_paged_too(api):
    nations = walk(api, "researcher", "/nations", limit=1)
    assert [n["slug"] for n in nations] == ["blue-heron", "red-cedar"]  # by name
    assert nations[1]["review_quorum"] == 2 and nations[1]["residency"] == ["CA"]
    datasets = walk(api, "researcher", "/datasets", limit=2)
    assert [d["slug"] for d in datasets] == ["cedar-health", "heron-schools", "shared-welfare"]


def test_a_cursor_only_works_for_its_own_list(api):
    page = api.get("researcher", "/nations", query_string={"limit": 1}).get_json()
    cursor = page["next_cursor"]
    assert cursor
    for path in ("/requests", "/datasets"):
        found = problem(api.get("researcher", path, query_string={"cursor": cursor}), 422)
        assert [e["field"] for e in found["errors"]] == ["cursor"]
