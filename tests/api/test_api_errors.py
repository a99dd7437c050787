"""Every wrong call gets its documented error as problem+json, and writes nothing."""

import io
import json

import pytest
import sqlalchemy as sa

from portal.db import get_engine
from portal.models import metadata

from apis import problem
from flows import COMPLETE

BIG = 70 * 1024  # over the API's 64 KiB body limit


def everything(app) -> dict:
    """Every row of every table: a refused call must leave all of it as it was."""
    with app.app_context(), get_engine().connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(sa.select(table)).all()), key=repr)
            for table in metadata.sorted_tables
        }


@pytest.fixture
def refs(flow):
    """A draft, a request under review, and an incomplete draft, all the researcher's."""
    return {
        "draft": flow.draft(),
        "review": flow.to_review(),
        "incomplete": flow.draft(title="", team=[], retention_days=None),
    }


# (who, method, path, json body, status, rule on 409 / fields on 422)
CASES = {
    # 401: no token, another scheme, a token that is not one
    "no token": (None, "GET", "/me", None, 401, None),
    "basic auth": ("basic", "GET", "/me", None, 401, None),
    "unknown token": ("bogus", "GET", "/requests", None, 401, None),
    # 403: they may know of the request, but the policy does not allow this
    "coordinator creates": ("coordinator", "POST", "/requests", {}, 403, None),
    "steward creates": ("cedar_steward1", "POST", "/requests", {"title": "x"}, 403, None),
    "researcher screens": (
        "researcher", "POST", "/requests/{review}/actions/screen", {"outcome": "accept"}, 403, None
    ),
    "steward reviews for another Nation": (
        "cedar_steward1", "POST", "/requests/{review}/actions/review",
        {"nation": "blue-heron", "recommendation": "approve"}, 403, None,
    ),
    "coordinator decides": (
        "coordinator", "POST", "/requests/{review}/actions/decide",
        {"nation": "red-cedar", "outcome": "refuse", "reason": "no"}, 403, None,
    ),
    "coordinator edits": ("coordinator", "PATCH", "/requests/{review}", {"title": "x"}, 403, None),
    "steward revokes": (
        "cedar_steward1", "POST", "/requests/{review}/actions/revoke",
        {"nation": "red-cedar", "reason": "no"}, 403, None,
    ),
    # 404: nothing they may know of
    "another's draft": ("other_researcher", "GET", "/requests/{draft}", None, 404, None),
    "a draft, to a coordinator": ("coordinator", "GET", "/requests/{draft}", None, 404, None),
    "another's draft, patched": (
        "other_researcher", "PATCH", "/requests/{draft}", {"title": "mine now"}, 404, None
    ),
    "another's draft, submitted": (
        "other_researcher", "POST", "/requests/{draft}/actions/submit", {}, 404, None
    ),
    "another's draft, its events": (
        "other_researcher", "GET", "/requests/{draft}/events", None, 404, None
    ),
    "no such request": ("researcher", "GET", "/requests/R-0000-0000", None, 404, None),
    "not a reference": ("researcher", "GET", "/requests/..%00", None, 404, None),
    "no such action": ("researcher", "POST", "/requests/{draft}/actions/approve", {}, 404, None),
    "no such route": ("researcher", "GET", "/nowhere", None, 404, None),
    # 405: a route that does not take that method
    "wrong method": ("researcher", "DELETE", "/requests/{draft}", None, 405, None),
    # 409: not in this state, or not by the governance rules
    "submit twice": ("researcher", "POST", "/requests/{review}/actions/submit", {}, 409, "state"),
    "edit under review": (
        "researcher", "PATCH", "/requests/{review}", {"title": "late"}, 409, "state"
    ),
    "approve without quorum": (
        "cedar_rep", "POST", "/requests/{review}/actions/decide",
        {"nation": "red-cedar", "outcome": "approve"}, 409, "quorum_met",
    ),
    # 422: bad input, each field named
    "unknown dataset": (
        "researcher", "POST", "/requests", {"datasets": ["no-such-data"]}, 422, {"datasets"}
    ),
    "wrong type": ("researcher", "POST", "/requests", {"retention_days": "365"}, 422,
                   {"retention_days"}),
    "unknown field": ("researcher", "POST", "/requests", {"colour": "red"}, 422, {"colour"}),
    "bad team member": (
        "researcher", "PATCH", "/requests/{draft}", {"team": [{"name": 3}]}, 422, {"team.0.name"}
    ),
    "bad location": (
        "researcher", "PATCH", "/requests/{draft}", {"storage_location": "Moon"}, 422,
        {"storage_location"},
    ),
    "NUL in text": ("researcher", "POST", "/requests", {"title": "a\x00b"}, 422, {"title"}),
    "missing fields on submit": (
        "researcher", "POST", "/requests/{incomplete}/actions/submit", {}, 422,
        {"title", "team", "retention_days"},
    ),
    "missing reason": ("researcher", "POST", "/requests/{draft}/actions/withdraw", {}, 422,
                       {"reason"}),
    "unknown outcome": (
        "coordinator", "POST", "/requests/{review}/actions/screen", {"outcome": "maybe"}, 422,
        {"outcome"},
    ),
    "unknown Nation": (
        "cedar_steward1", "POST", "/requests/{review}/actions/review",
        {"nation": "atlantis", "recommendation": "approve"}, 422, {"nation"},
    ),
    "a Nation it does not touch": (
        "cedar_rep", "POST", "/requests/{review}/actions/decide",
        {"nation": "kestrel-river", "outcome": "refuse", "reason": "x"}, 422, {"nation"},
    ),
    "extra field in an action": (
        "researcher", "POST", "/requests/{draft}/actions/submit", {"force": True}, 422, {"force"}
    ),
    "body not an object": ("researcher", "POST", "/requests", [1, 2], 422, {"body"}),
    "unknown status filter": ("researcher", "GET", "/requests?status=pending", None, 422,
                              {"status"}),
    "limit too large": ("researcher", "GET", "/requests?limit=1000", None, 422, {"limit"}),
    "cursor not ours": ("researcher", "GET", "/requests?cursor=abc", None, 422, {"cursor"}),
    "unknown query parameter": ("researcher", "GET", "/nations?sort=name", None, 422, {"sort"}),
}  # fmt: skip


def check_case(app, api, refs, case: str) -> None:
    who, method, path, body, status, expected = CASES[case]
    path = path.format(**refs)
    headers = {}
    if who == "basic":
        who, headers = None, {"Authorization": "Basic cmVzZWFyY2hlcjpwdw=="}
    elif who == "bogus":
        who, headers = None, {"Authorization": "Bearer spt_not-a-token"}
    elif who is not None:
        api.token(who)  # made before the snapshot: making it is a write of its own
    before = everything(app)
    response = api.call(who, method, path, json=body, headers=headers)
    found = problem(response, status)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status == 405:
        assert "GET" in response.headers["Allow"]
    if status == 409:
        assert expected in {rule["rule"] for rule in found["blocked_by"]}
    if status == 422:
        named = {error["field"] for error in found["errors"]}
        assert expected <= named, named
    assert everything(app) == before, "a refused call wrote something"


def test_wrong_calls_get_their_error_and_write_nothing(app, api, refs):
    # One set-up for the whole table: each call must leave the database as it found it,
    # so the next starts from the same state. Every failing case is reported.
    failures = {}
    for case in CASES:
        try:
            check_case(app, api, refs, case)
        except AssertionError as error:
            failures[case] = str(error)[:300]
    assert not failures, failures


def test_malformed_json_is_a_400(app, api, refs):
    api.token("researcher")
    before = everything(app)
    for raw in (b"{", b'{"title": }', b"\xff\xfe"):
        response = api.call(
            "researcher", "PATCH", f"/requests/{refs['draft']}", data=raw,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert "JSON" in problem(response, 400)["detail"]
    assert everything(app) == before


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bodies_over_the_limit_are_a_413(app, api, refs, chunked):
    api.token("researcher")
    before = everything(app)
    raw = json.dumps({**COMPLETE, "purpose": "x" * BIG}).encode()
    headers = {"Content-Type": "application/json"}
    if chunked:
        # No Content-Length (as a server passes on a chunked body): the limit holds while
        # reading. wsgi.input_terminated is how such a server says the stream ends.
        response = api.call(
            "researcher", "POST", "/requests", input_stream=io.BytesIO(raw),
            headers={**headers, "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )  # fmt: skip
    else:
        response = api.call("researcher", "POST", "/requests", data=raw, headers=headers)
    assert "65536 bytes" in problem(response, 413)["detail"]
    assert everything(app) == before


def test_a_body_just_under_the_limit_is_read(api):
    text = "x" * 19_000  # within the service's limit for each field; ~57 KB in all
    body = {"purpose": text, "methods": text, "harm_assessment": text}
    assert 56_000 < len(json.dumps(body)) < BIG
    response = api.post("researcher", "/requests", json=body)
    assert response.status_code == 201
