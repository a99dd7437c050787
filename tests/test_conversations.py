"""Conversations on a request: the researcher with the coordinators, the researcher with
each Nation, and each Nation's own discussion.

On one two-Nation request, for every person (the researcher, a team member who is also
a Red Cedar steward, a coordinator, an administrator, each Nation's steward and
representative): who reads each thread and who writes in it (the same people: a page
for a thread one may not read is a 404); a message never changes the request's state;
each message carries a sentinel that must reach its thread's readers and no one else,
on every surface (the thread's page, the request page, its timeline, the API's
conversations and events, each Nation's record and its downloads, the mail); what a
Nation's people write to the researcher reads as the Nation's; bad input changes
nothing.
"""

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlmodel import select
from test_notify import smtp_server  # noqa: F401 (a fixture: a real SMTP server)

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.conversations.models import MAX_BODY, Message
from portal.db import session_scope
from portal.errors import ServiceError
from portal.notify.models import OutboxMessage
from portal.notify.service import deliver
from portal.requests.models import AccessRequest
from portal.reviews.forms import CRITERIA
from portal.reviews.models import NationTrack
from portal.transparency import routes as transparency_routes
from portal.workflow import Message as MessageCommand

from apis import Api
from flows import COMPLETE, PEOPLE
from helpers import csrf_token, sign_in

CEDAR, HERON = "red-cedar", "blue-heron"
CEDAR_NAME = "Red Cedar Nation (fictional)"
TEAM_STEWARD = "team.steward@example.org"
STEWARD_NAME = "Ada Cedarsteward"  # cedar_steward1: distinctive, so its absence means something

EMAILS = {**{who: email for who, (email, _roles) in PEOPLE.items()}, "team_steward": TEAM_STEWARD}
EVERYONE = [
    "researcher", "team_steward", "coordinator", "admin",
    "cedar_steward1", "cedar_rep", "heron_steward", "heron_rep",
]  # fmt: skip

# Each thread: (channel, Nation) and who reads it, and so writes in it. The team member
# who is a Red Cedar steward is on the requesting side: in the researcher's thread with
# Red Cedar, never in Red Cedar's own discussion (invariant 10).
CEDARS = {"cedar_steward1", "cedar_steward2", "cedar_steward3", "cedar_rep"}
THREADS = {
    "coordinators": (("coordinators", None), {"researcher", "coordinator"}),
    "with cedar": (("nation", CEDAR), {"researcher", "team_steward", *CEDARS}),
    "with heron": (("nation", HERON), {"researcher", "heron_steward", "heron_rep"}),
    "cedar internal": (("internal", CEDAR), CEDARS),
    "heron internal": (("internal", HERON), {"heron_steward", "heron_rep"}),
}  # fmt: skip


def thread_path(ref: str, thread: str) -> str:
    (channel, nation), _readers = THREADS[thread]
    return f"/requests/{ref}/conversations/{channel}" + (f"/{nation}" if nation else "")


@pytest.fixture
def world(flow, make_user):
    make_user(TEAM_STEWARD, ("steward", CEDAR), name="Stevie Teamsteward")
    with flow.app.app_context(), session_scope() as session:
        flow.user(session, "cedar_steward1").name = STEWARD_NAME
    team = [*COMPLETE["team"], {"name": "Stevie", "email": TEAM_STEWARD, "role": "Liaison"}]
    return flow, flow.to_review(team=team)


def post(flow, who: str, ref: str, thread: str, body: str) -> str:
    """perform() the message as ``who``: "ok", or the name of the error raised."""
    (channel, nation), _readers = THREADS[thread]
    try:
        flow.perform(EMAILS[who], ref, MessageCommand(channel, nation, body))
    except ServiceError as error:
        return type(error).__name__
    return "ok"


def clients(app) -> dict:
    """One signed-in client per person (a two-factor code is good once)."""
    found = {}
    for who in EVERYONE:
        found[who] = app.test_client()
        assert sign_in(found[who], EMAILS[who]).status_code == 302, who
    return found


# --- who reads and writes -------------------------------------------------------------


def test_each_thread_is_read_and_written_by_its_own_people_only(world):
    flow, ref = world
    api, browsers = Api(flow.app), clients(flow.app)
    wrong = []
    for thread, (_key, readers) in THREADS.items():
        for who in EVERYONE:
            reads = who in readers
            page = browsers[who].get(thread_path(ref, thread)).status_code
            if page != (200 if reads else 404):
                wrong.append(f"{who} opening {thread}: {page}")
            # Who may not know of the request is told so; who may not read it, 403.
            refusal = "NotFound" if who == "admin" else "Forbidden"
            wrote = post(flow, who, ref, thread, f"{who} writes")
            if wrote != ("ok" if reads else refusal):
                wrong.append(f"{who} writing in {thread}: {wrote}")
    for who in EVERYONE:
        answer = api.get(EMAILS[who], f"/requests/{ref}/conversations")
        if who == "admin":
            assert answer.status_code == 404
            continue
        listed = {(t["channel"], t["nation"]) for t in answer.get_json()["items"]}
        expected = {key for key, readers in THREADS.values() if who in readers}
        if listed != expected:
            wrong.append(f"{who} listed {sorted(listed, key=str)}")
    assert wrong == []


def test_the_request_page_lists_the_readable_threads_with_counts(world):
    flow, ref = world
    post(flow, "cedar_rep", ref, "cedar internal", "first")
    post(flow, "cedar_steward1", ref, "cedar internal", "second")
    browsers = clients(flow.app)
    page = browsers["cedar_rep"].get(f"/requests/{ref}").text
    panel = re.search(r'id="conversations-h".*?</section>', page, re.DOTALL).group(0)
    assert f'href="{thread_path(ref, "cedar internal")}"' in panel
    assert "2 messages, the latest on" in panel
    assert f'href="{thread_path(ref, "with cedar")}"' in panel
    assert "coordinators" not in panel and "heron" not in panel
    researcher = browsers["researcher"].get(f"/requests/{ref}").text
    assert f"{CEDAR_NAME}: its own discussion" not in researcher
    assert f"The researcher and {CEDAR_NAME}" in researcher


# --- a message changes no state ----------------------------------------------------------


def state_of(app, ref: str) -> tuple:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        tracks = session.exec(
            select(NationTrack.nation_id, NationTrack.status, NationTrack.updated_at)
            .where(NationTrack.request_id == request.id)
            .order_by(NationTrack.nation_id)
        ).all()
        return request.status, request.updated_at, request.current_revision, tuple(tracks)


@pytest.mark.parametrize("state", ["screening", "under_review", "changes_requested", "refused"])
def test_a_message_never_changes_the_state_or_the_tracks(world, state):
    flow, _ref = world
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    if state != "screening":
        flow.do("coordinator", "screen", ref)
    if state == "changes_requested":
        flow.do("heron_steward", "review", ref, HERON, recommendation="changes", comment="?")
    if state == "refused":
        flow.do("cedar_rep", "decide", ref, CEDAR, outcome="refuse", reason="no")
    before = state_of(flow.app, ref)
    assert before[0].value == state
    for thread, (_key, readers) in THREADS.items():
        for who in sorted(readers - {"team_steward"}):  # this request has no such member
            assert post(flow, who, ref, thread, "a word") == "ok", (who, thread)
    assert state_of(flow.app, ref) == before


def test_a_draft_has_no_conversation(world):
    flow, _ref = world
    ref = flow.draft()
    assert post(flow, "researcher", ref, "coordinators", "hello") == "Refused"
    browser = flow.app.test_client()
    sign_in(browser, EMAILS["researcher"])
    assert browser.get(thread_path(ref, "coordinators")).status_code == 404


# --- invariant 9: each message reaches its thread's readers only --------------------------


@dataclass(frozen=True)
class Said:
    thread: str
    author: str
    text: str


SAID = [
    Said("coordinators", "researcher", "When is screening done? (sentinel Q1)"),
    Said("coordinators", "coordinator", "This week (sentinel Q2)"),
    Said("with cedar", "cedar_steward1", "How will parents consent? (sentinel N1)"),
    Said("with cedar", "researcher", "Through the band office (sentinel N2)"),
    Said("with heron", "heron_rep", "Which schools? (sentinel N3)"),
    Said("cedar internal", "cedar_rep", "I lean towards yes (sentinel I1)"),
    Said("cedar internal", "cedar_steward1", "Ask about consent first (sentinel I2)"),
    Said("heron internal", "heron_steward", "Schools data is sensitive (sentinel I3)"),
]


def surfaces(app, api, browser, who: str, ref: str) -> dict[str, str]:
    """Everything ``who`` can read of the request, by place."""
    found = {
        "request page": browser.get(f"/requests/{ref}").text,
        "timeline": browser.get(f"/requests/{ref}/timeline").text,
        "api conversations": api.get(EMAILS[who], f"/requests/{ref}/conversations").text,
        "api events": api.get(EMAILS[who], f"/requests/{ref}/events?limit=100").text,
    }
    for thread in THREADS:
        found[f"page {thread}"] = browser.get(thread_path(ref, thread)).text
    for nation in (CEDAR, HERON):
        for kind in ("", ".csv", ".pdf"):
            answer = browser.get(f"/nations/{nation}/record{kind}")
            found[f"{nation} record{kind}"] = answer.text if answer.status_code == 200 else ""
    with app.app_context(), session_scope() as session:
        mail = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == EMAILS[who]))
        found["mail"] = "\n".join(f"{m.subject}\n{m.body}" for m in mail)
    return found


def test_each_message_reaches_its_threads_readers_and_no_one_else(world, monkeypatch):
    # A record's PDF is its HTML handed to WeasyPrint: read the HTML instead.
    monkeypatch.setattr(transparency_routes, "html_to_pdf", lambda html: html.encode())
    flow, ref = world
    for said in SAID:
        assert post(flow, said.author, ref, said.thread, said.text) == "ok"
    api, browsers = Api(flow.app), clients(flow.app)
    wrong = []
    for who in EVERYONE:
        seen = surfaces(flow.app, api, browsers[who], who, ref)
        for said in SAID:
            readers = THREADS[said.thread][1]
            where = sorted(place for place, text in seen.items() if said.text in text)
            if who not in readers and where:
                wrong.append(f"{who} reads {said.thread!r} in {where}")
            if who in readers:
                missing = {f"page {said.thread}", "api conversations", "api events", "timeline"}
                if not missing <= set(where):
                    wrong.append(f"{who} misses {said.thread!r} in {sorted(missing - set(where))}")
        # What the steward wrote to the researcher reads as Red Cedar's to the requesting
        # side; Red Cedar's own people read their colleague's name.
        named = sorted(
            place
            for place, text in seen.items()
            if STEWARD_NAME in text or EMAILS["cedar_steward1"] in text
        )
        if who in ("researcher", "team_steward", "coordinator", "heron_steward", "heron_rep"):
            if named and who != "team_steward":
                wrong.append(f"{who} reads the steward's name in {named}")
            # A Nation's people know who its stewards are: its record lists them.
            records = {f"{CEDAR} record{kind}" for kind in ("", ".csv", ".pdf")}
            if who == "team_steward" and set(named) - records:
                wrong.append(f"the team steward reads the steward's name in {named}")
    assert wrong == []
    researcher_page = seen_by(api, browsers, "researcher", ref, "with cedar")
    assert f"<strong>{CEDAR_NAME}</strong>" in researcher_page
    assert f"<strong>{STEWARD_NAME}</strong>" in seen_by(
        api, browsers, "cedar_rep", ref, "with cedar"
    )
    conversations = api.get(EMAILS["researcher"], f"/requests/{ref}/conversations").get_json()
    cedar = next(t for t in conversations["items"] if t["nation"] == CEDAR)
    assert [m["author"] for m in cedar["messages"]] == [CEDAR_NAME, "researcher"]


def seen_by(api, browsers, who: str, ref: str, thread: str) -> str:
    return browsers[who].get(thread_path(ref, thread)).text


def test_each_message_mails_the_threads_other_readers_with_a_link(world, smtp_server):  # noqa: F811
    flow, ref = world
    controller, inbox = smtp_server
    flow.app.config["PORTAL_URL"] = "https://portal.example.org/stewardship"
    for said in SAID:
        with flow.app.app_context(), session_scope() as session:
            before = session.exec(select(sa.func.max(OutboxMessage.id))).one() or 0
        post(flow, said.author, ref, said.thread, said.text)
        with flow.app.app_context(), session_scope() as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.id > before))
            mail = [m.model_copy() for m in rows]
        readers = THREADS[said.thread][1] - {said.author}
        assert {m.recipient for m in mail} == {EMAILS[who] for who in readers}, said
        for m in mail:
            assert said.text not in m.body, "mail carries no message: the page does"
            if m.recipient in (EMAILS["researcher"], TEAM_STEWARD):  # the requesting side
                assert STEWARD_NAME not in m.body and EMAILS["cedar_steward1"] not in m.body
            link = f"https://portal.example.org/stewardship{thread_path(ref, said.thread)}"
            assert link in m.body
    flow.app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    with flow.app.app_context(), session_scope() as session:
        sent, failed = deliver(session, flow.app.config)
    assert failed == 0 and sent == len(inbox.messages) > 0
    to_researcher = [
        e.content.decode() for e in inbox.messages if EMAILS["researcher"] in e.rcpt_tos
    ]
    assert any(f"{CEDAR_NAME} wrote" in text for text in to_researcher)


# --- bad input ------------------------------------------------------------------------


def written(app) -> tuple[int, int, int]:
    with app.app_context(), session_scope() as session:
        return tuple(
            session.exec(select(sa.func.count()).select_from(table)).one()
            for table in (Message, AuditEvent, OutboxMessage)
        )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"channel": "coordinators", "body": ""}, "body"),
        ({"channel": "coordinators", "body": "   "}, "body"),
        ({"channel": "coordinators", "body": "x" * (MAX_BODY + 1)}, "body"),
        ({"channel": "gossip", "body": "hi"}, "channel"),
        ({"channel": "coordinators", "nation": CEDAR, "body": "hi"}, "nation"),
        ({"channel": "nation", "body": "hi"}, "nation"),
        ({"channel": "internal", "nation": "nowhere", "body": "hi"}, "nation"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(world, body, field):
    flow, ref = world
    api = Api(flow.app)
    api.token("researcher")
    before = written(flow.app)
    answer = api.act("researcher", ref, "message", **body)
    assert answer.status_code == 422, answer.get_json()
    assert field in {error["field"] for error in answer.get_json()["errors"]}
    assert written(flow.app) == before


def test_the_page_names_the_problem_and_keeps_what_was_typed(world):
    flow, ref = world
    browser = flow.app.test_client()
    sign_in(browser, EMAILS["cedar_steward1"])
    path = thread_path(ref, "cedar internal")
    token = csrf_token(browser.get(path).text)
    before = written(flow.app)
    empty = browser.post(path, data={"body": "", "csrf_token": token})
    assert empty.status_code == 422 and "Write the message: it is empty." in empty.text
    long = "A long thought (sentinel L1) " + "y" * MAX_BODY
    answer = browser.post(path, data={"body": long, "csrf_token": token})
    assert answer.status_code == 422
    assert "There is a problem" in answer.text and 'href="#body"' in answer.text
    assert f"at most {MAX_BODY:,} characters" in answer.text
    assert "A long thought (sentinel L1)" in answer.text, "what was typed comes back"
    assert browser.post(path, data={"body": "hi"}).status_code == 400, "no CSRF token"
    assert written(flow.app) == before
    done = browser.post(path, data={"body": "Agreed (sentinel OK1)", "csrf_token": token})
    assert done.status_code == 302
    assert "Agreed (sentinel OK1)" in browser.get(path).text


def test_the_api_posts_and_answers_the_request_unchanged(world):
    flow, ref = world
    api = Api(flow.app)
    answer = api.act("heron_rep", ref, "message", channel="nation", nation=HERON, body="Hello")
    assert answer.status_code == 200 and answer.get_json()["status"] == "under_review"
    forbidden = api.act("coordinator", ref, "message", channel="internal", nation=HERON, body="x")
    assert forbidden.status_code == 403
    with flow.app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == EMAILS["heron_rep"])).one()
        (message,) = session.exec(select(Message)).all()
        assert (message.author_id, message.as_nation, message.body) == (user.id, True, "Hello")


# --- a steward's request for changes opens the conversation --------------------------------


def test_a_stewards_request_for_changes_can_open_the_thread_with_the_researcher(world):
    flow, ref = world
    browsers = clients(flow.app)
    steward, path = browsers["cedar_steward1"], f"/requests/{ref}/review/{CEDAR}"
    form = steward.get(path).text
    assert re.search(r'<input checked id="tell_researcher" name="tell_researcher"', form), (
        "offered, and on unless unticked"
    )
    ask = "Please describe how parents consent (sentinel CH1)"
    data = {"recommendation": "changes", "comment": ask, "tell_researcher": "y"}
    data |= {f"criterion_{key}": "unclear" for key in CRITERIA}  # each must be answered
    answer = steward.post(path, data={**data, "csrf_token": csrf_token(form)})
    assert answer.status_code == 302
    assert flow.status(ref) == "changes_requested"
    researcher = browsers["researcher"].get(thread_path(ref, "with cedar")).text
    assert ask in researcher and f"<strong>{CEDAR_NAME}</strong>" in researcher
    assert STEWARD_NAME not in researcher
    assert ask not in browsers["heron_rep"].get(f"/requests/{ref}/timeline").text


def test_unticked_the_request_for_changes_writes_no_message(world):
    flow, ref = world
    flow.do("heron_steward", "review", ref, HERON, recommendation="changes", comment="Why?")
    with flow.app.app_context(), session_scope() as session:
        assert session.exec(select(Message)).all() == []
    Api(flow.app).act("researcher", ref, "submit")
    flow.do("coordinator", "screen", ref)
    answer = Api(flow.app).act(
        "heron_steward", ref, "review", nation=HERON, recommendation="changes",
        comment="Which schools? (sentinel CH2)", tell_researcher=True,
    )  # fmt: skip
    assert answer.status_code == 200
    with flow.app.app_context(), session_scope() as session:
        (message,) = session.exec(select(Message)).all()
        assert (message.channel, message.as_nation) == ("nation", True)
        assert message.body == "Which schools? (sentinel CH2)"


def test_a_message_is_listed_only_to_its_threads_readers(world):
    """Not even as a withheld event: that a Nation's people talk among themselves, and
    when, is the Nation's own (found by a probe: the researcher's API listed each of a
    Nation's own messages, withheld, under the Nation's name)."""
    flow, ref = world
    for said in SAID:
        assert post(flow, said.author, ref, said.thread, said.text) == "ok"
    api, browsers = Api(flow.app), clients(flow.app)
    wrong = []
    for who in [w for w in EVERYONE if w != "admin"]:  # the administrator sees no request
        readable = sum(who in THREADS[said.thread][1] for said in SAID)
        events = api.get(EMAILS[who], f"/requests/{ref}/events?limit=100").get_json()["items"]
        listed = [e for e in events if e["action"] == "message.posted"]
        timeline = browsers[who].get(f"/requests/{ref}/timeline").text
        in_timeline = timeline.count("Message in a conversation")
        if (len(listed), in_timeline) != (readable, readable):
            wrong.append(f"{who}: {len(listed)} listed, {in_timeline} in the timeline")
        if any(e.get("withheld") for e in listed):
            wrong.append(f"{who} finds a withheld message")
    assert wrong == []
