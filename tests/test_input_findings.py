"""Unchecked input that used to end in a server error now gets a 4xx page in plain
words and writes nothing (findings of the security probe)."""

import pytest
from sqlmodel import func, select

from portal.db import session_scope
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest

from apis import Api, problem
from flows import PEOPLE
from helpers import PASSWORD, csrf_token, sign_in

NUL_REFUSED = "contains a NUL character"


def signed_in(app, who: str):
    client = app.test_client()
    assert sign_in(client, PEOPLE[who][0]).status_code == 302
    return client


def request_count(app) -> int:
    with app.app_context(), session_scope() as session:
        return session.exec(select(func.count()).select_from(AccessRequest)).one()


def test_a_nul_byte_in_a_form_field_is_refused_and_nothing_is_written(app, flow):
    client = signed_in(app, "researcher")
    token = csrf_token(client.get("/requests/new").get_data(as_text=True))
    response = client.post(
        "/requests/new", data={"csrf_token": token, "title": "Children\x00 in care"}
    )
    assert response.status_code == 400
    assert NUL_REFUSED in response.get_data(as_text=True)
    assert request_count(app) == 0


@pytest.mark.parametrize(
    "url", ["/?x=%00", "/sign-in?next=/%00", "/requests/R-1/timeline?after=%00", "/verify?%00=1"]
)
def test_a_nul_byte_in_a_query_string_is_refused(app, flow, url):
    response = signed_in(app, "researcher").get(url)
    assert response.status_code == 400
    assert NUL_REFUSED in response.get_data(as_text=True)


def test_a_nul_byte_in_the_sign_in_form_is_refused(app, flow):
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    data = {"csrf_token": token, "email": "researcher\x00@example.org", "password": PASSWORD}
    assert client.post("/sign-in", data=data).status_code == 400


def profile(app) -> dict:
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        return {k: getattr(nation, k) for k in ("review_quorum", "min_approvals", "max_term_days")}


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("review_quorum", "The review quorum can be at most 100."),
        ("min_approvals", "Minimum approvals must be between 0 and the review quorum."),
        ("max_term_days", "The maximum term can be at most 36500 days (100 years)."),
        ("small_cell_threshold", "The small-cell threshold can be at most 10000."),
    ],
)
def test_profile_numbers_beyond_their_range_are_named_and_nothing_is_written(
    app, flow, field, message
):
    client = signed_in(app, "cedar_rep")
    before = profile(app)
    page = client.get("/nations/red-cedar/profile").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "review_quorum": "2",
        "min_approvals": "1",
        "residency": "CA",
        "max_term_days": "730",
        "small_cell_threshold": "5",
        field: "99999999999",
    }
    response = client.post("/nations/red-cedar/profile", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert profile(app) == before


@pytest.mark.parametrize(
    "target", ["/%0d%0aX", "/%0aSet-Cookie:x=1", "/\u2028x", "//evil.example", "/%09x"]
)
def test_a_next_with_control_characters_goes_home(app, flow, target):
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    data = {"csrf_token": token, "email": PEOPLE["researcher"][0], "password": PASSWORD}
    response = client.post(f"/sign-in?next={target}", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_plain_next_is_still_followed(app, flow):
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    data = {"csrf_token": token, "email": PEOPLE["researcher"][0], "password": PASSWORD}
    response = client.post("/sign-in?next=/requests/new", data=data)
    assert response.headers["Location"] == "/requests/new"


# A title is printed in mail subjects and bodies: a line break in it began a new line
# there (found in a probe, through the API); other control characters likewise.
ONE_LINE = "The title must be one line, without line breaks or other control characters."
CONTROLLED = [
    "Children in care\nBcc: x@example.org",
    "In care\r\n",
    "Tab\there",
    "A\u2028B",
    "\x1b[2J",
]


@pytest.mark.parametrize("title", CONTROLLED)
def test_a_title_with_a_control_character_is_refused_through_the_api(app, flow, title):
    api = Api(app)
    created = problem(api.post("researcher", "/requests", json={"title": title}), 422)
    assert created["errors"] == [{"field": "title", "message": ONE_LINE}]
    assert request_count(app) == 0, "nothing written"
    ref = flow.draft(title="Kept title")
    edited = problem(api.patch("researcher", f"/requests/{ref}", json={"title": title}), 422)
    assert edited["errors"] == [{"field": "title", "message": ONE_LINE}]
    assert api.get("researcher", f"/requests/{ref}").get_json()["title"] == "Kept title"


def test_a_title_with_a_line_break_is_refused_on_the_page(app, flow):
    client = signed_in(app, "researcher")
    token = csrf_token(client.get("/requests/new").get_data(as_text=True))
    sent = {"csrf_token": token, "title": "Children\nin care", "purpose": "Kept purpose"}
    response = client.post("/requests/new", data=sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, response.status_code
    assert ONE_LINE in page and "Kept purpose" in page, "named, and what was typed kept"
    assert request_count(app) == 0
