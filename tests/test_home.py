"""The home page lists what each person may see, and nothing else."""

import functools
from datetime import date, timedelta

import pytest
from sqlmodel import select

from portal.auth.models import User
from portal.db import pinned_clock, session_scope, utcnow
from portal.lifecycle import attestations
from portal.main import routes as main_routes
from portal.policy.access import visible_requests
from portal.requests.models import AccessRequest, RequestStatus
from portal.workflow import create_draft

from flows import PEOPLE
from helpers import sign_in, statements_during


@pytest.fixture
def requests(app, nations, make_user):
    """Drafts and submitted requests touching one Nation, the other, or both."""
    researcher = make_user("researcher@example.org", "researcher")
    other = make_user("other@example.org", "researcher")
    specs = [
        (researcher, "cedar draft", ["cedar-health"], RequestStatus.DRAFT),
        (researcher, "cedar submitted", ["cedar-health"], RequestStatus.SCREENING),
        (other, "heron submitted", ["heron-schools"], RequestStatus.UNDER_REVIEW),
        (other, "shared submitted", ["shared-welfare"], RequestStatus.UNDER_REVIEW),
        (other, "other draft", ["shared-welfare"], RequestStatus.DRAFT),
    ]
    with app.app_context(), session_scope() as session:
        for owner, title, datasets, status in specs:
            request = create_draft(
                session, session.get(User, owner), {"title": title, "datasets": datasets}
            )
            request.status = status
    return {title for _owner, title, _datasets, _status in specs}


CASES = [
    ("researcher", ["researcher"], {"cedar draft", "cedar submitted"}),
    ("coordinator", ["coordinator"], {"cedar submitted", "heron submitted", "shared submitted"}),
    ("cedar steward", [("steward", "red-cedar")], {"cedar submitted", "shared submitted"}),
    ("heron rep", [("representative", "blue-heron")], {"heron submitted", "shared submitted"}),
    ("admin", ["admin"], set()),
    ("nobody", [], set()),
]


@pytest.mark.parametrize("who, roles, expected", CASES, ids=[c[0] for c in CASES])
def test_each_role_sees_its_own_requests(app, client, make_user, requests, who, roles, expected):
    email = (
        "researcher@example.org" if who == "researcher" else f"{who.replace(' ', '.')}@example.org"
    )
    if who != "researcher":
        make_user(email, *roles)
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert {r.title for r in visible_requests(session, user)} == expected
    sign_in(client, email)
    html = client.get("/").get_data(as_text=True)
    for title in requests:
        assert (title in html) == (title in expected), title


def test_a_first_time_researcher_is_told_what_will_appear(client, make_user):
    make_user("new@example.org", "researcher")
    sign_in(client, "new@example.org")
    html = client.get("/").get_data(as_text=True)
    assert "Nothing here yet" in html and "Your access requests will be listed here" in html


def test_someone_without_roles_is_told_how_to_get_one(client, make_user):
    make_user("new@example.org")
    sign_in(client, "new@example.org")
    assert "You have no roles yet" in client.get("/").get_data(as_text=True)


def test_the_layout_is_accessible(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert '<label for="email">' in html and '<label for="password">' in html
    assert '<html lang="en-CA">' in html


def test_the_layout_names_the_person_and_their_roles(client, nations, make_user):
    make_user("sam@example.org", ("steward", "red-cedar"), "researcher", name="Sam Steward")
    sign_in(client, "sam@example.org")
    html = client.get("/").get_data(as_text=True)
    assert "Sam Steward" in html
    assert "Researcher" in html and "Steward · Red Cedar Nation (fictional)" in html


def test_the_welcome_page_for_visitors(client):
    html = client.get("/").get_data(as_text=True)
    assert "Sign in" in html and "Nations" in html
    assert AccessRequest.__tablename__ not in html


def test_overdue_attestations_read_many_ended_requests_in_as_many_statements_as_one(
    app, client, flow, monkeypatch
):
    """A large portal has thousands of ended requests: their attestations, the Nations'
    answers and the parties are read at once, never a few statements per request."""

    def end_one() -> str:
        ref = flow.active()
        with pinned_clock(utcnow() - timedelta(days=400)):  # past every Nation's due days
            flow.do("researcher", "close", ref, reason="Project finished early (fictional)")
        return ref

    def overdue_and_statements() -> tuple[list[tuple[str, str]], int]:
        with app.app_context(), session_scope() as session:
            found: list = []
            seen = statements_during(
                app, lambda: found.extend(attestations.overdue_attestations(session, date.today()))
            )
            return sorted((o.ref, o.nation.slug) for o in found), len(seen)

    first = end_one()
    overdue_of_one, statements_of_one = overdue_and_statements()
    assert overdue_of_one == [(first, "blue-heron"), (first, "red-cedar")]
    others = [end_one(), end_one()]
    overdue_of_three, statements_of_three = overdue_and_statements()
    assert overdue_of_three == sorted(
        (ref, slug) for ref in [first, *others] for slug in ("blue-heron", "red-cedar")
    )
    assert statements_of_three == statements_of_one

    # A home page lists the longest waiting and says that more are overdue.
    monkeypatch.setattr(main_routes, "ATTESTATIONS_SHOWN", 2)
    sign_in(client, PEOPLE["coordinator"][0])
    page = client.get("/").get_data(as_text=True)
    start = page.index('id="overdue-attestations"')
    panel = page[start : page.index("</section>", start)]
    assert panel.count("owed to") == 2 and first in panel  # the first to end, both Nations
    assert "More are overdue: these are the 2 whose access ended first." in panel


def test_overdue_attestations_show_to_the_nations_and_coordinators_never_the_researcher(app, flow):
    """Flagged on the home pages of who reads the Nation's record, and of coordinators;
    the researcher's home does not ask (they see it on the request)."""
    ref = flow.active()
    with pinned_clock(utcnow() - timedelta(days=400)):  # past every Nation's due days
        flow.do("researcher", "close", ref, reason="Project finished early (fictional)")
    pages = {}
    for who in ("researcher", "coordinator", "cedar_rep"):
        client = app.test_client()
        sign_in(client, PEOPLE[who][0])
        pages[who] = client.get("/").get_data(as_text=True)
    for who in ("coordinator", "cedar_rep"):
        assert "Destruction attestations overdue" in pages[who] and ref in pages[who], who
    assert "Destruction attestations overdue" not in pages["researcher"]


def test_the_home_queues_cost_as_many_statements_for_many_active_requests_as_for_one(app, flow):
    """A review found the queues of the end of access (attest, answer) asking each active
    request whether its access ended, one statement each: they are read at once."""
    from portal.workflow.queues import queues_for

    people = ("researcher", "cedar_rep", "cedar_steward1")

    def statements() -> dict[str, int]:
        counted = {}
        for who in people:
            with app.app_context(), session_scope() as session:
                user = flow.user(session, who)
                asked = functools.partial(queues_for, session, user)
                counted[who] = len(statements_during(app, asked))
        return counted

    flow.active()
    of_one = statements()
    flow.active(), flow.active(), flow.active()
    assert statements() == of_one

    # A review found the output queues asking per request: read at once as well.
    from portal.workflow import commands as c

    def with_output() -> None:
        ref = flow.active()
        flow.perform("researcher", ref, c.SubmitOutput("T", "V", "t.csv", b"A,B\nx,10\n"))
        flow.do("cedar_steward1", "review_output", ref, "red-cedar", output=_only_output(app, ref),
                recommendation="approve")  # fmt: skip

    with_output()
    of_one = statements()
    with_output(), with_output(), with_output()
    assert statements() == of_one


def test_an_output_waits_in_the_queues_of_who_reviews_and_decides_it(app, flow):
    """Found in a browser: an output waiting for a Nation was only mailed; the stewards'
    and the representative's home pages said nothing waited for them."""
    from portal.workflow import commands as c
    from portal.workflow.queues import queues_for

    def waiting(who: str, key: str) -> list[str]:
        with app.app_context(), session_scope() as session:
            queues = {q.key: q for q in queues_for(session, flow.user(session, who))}
            return [item.request.ref for item in queues[key].items] if key in queues else []

    ref = flow.active()
    flow.active()  # another active request, with nothing waiting
    assert waiting("cedar_steward1", "review_output") == []
    flow.perform("researcher", ref, c.SubmitOutput("T", "V", "t.csv", b"A,B\nx,10\n"))
    out = flow.perform
    for who in ("cedar_steward1", "cedar_steward2", "heron_steward"):
        assert waiting(who, "review_output") == [ref], who
    assert waiting("cedar_rep", "decide_output") == []  # its stewards have not reviewed
    assert waiting("researcher", "review_output") == []

    output = _only_output(app, ref)
    for who in ("cedar_steward1", "cedar_steward2"):
        out(who, ref, c.ReviewOutput(output, "red-cedar", recommendation="approve"))
    assert waiting("cedar_steward1", "review_output") == [], "reviewed it already"
    assert waiting("cedar_rep", "decide_output") == [ref]
    assert waiting("heron_rep", "decide_output") == [], "Heron's stewards have not"
    out("cedar_rep", ref, c.DecideOutput(output, "red-cedar", outcome="approve"))
    assert waiting("cedar_rep", "decide_output") == []
    out("heron_rep", ref, c.DecideOutput(output, "blue-heron", outcome="refuse", reason="Cells."))
    assert waiting("heron_steward", "review_output") == [], "a refusal closes it for all"


def _only_output(app, ref: str) -> int:
    from portal.lifecycle.outputs.models import ResearchOutput

    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        query = select(ResearchOutput.id).where(ResearchOutput.request_id == request.id)
        return session.exec(query).one()


def test_an_administrators_home_points_to_the_administration(client, make_user):
    """Found in a browser: an administrator's home said only "Nothing here yet"."""
    make_user("admin@example.org", "admin")
    sign_in(client, "admin@example.org")
    page = client.get("/").text
    assert "You administer the portal" in page
    for path in ("/admin/people", "/admin/invitations", "/admin/nations", "/admin/datasets"):
        assert f'href="{path}"' in page.split('id="main"')[1], path
