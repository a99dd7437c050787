"""Invariant 9, viewer by field: each Nation's deliberations are its own.

One two-Nation request goes the whole way: Blue Heron's steward asks the researcher
for changes; after the resubmission Red Cedar's stewards review (one declares a
conflict of interest, two recommend approval, one with criteria notes); Blue Heron's
steward approves; both representatives approve, each with a reason and a condition;
then Blue Heron's steward reads the agreement.

Each thing a Nation keeps or sends carries a sentinel string. For every viewer and
every place the request is shown (its page, the API's request and events, the timeline
page, and the mail each viewer received) the sentinel must be there for those allowed
to read it, where that place shows it, and nowhere for anyone else:

- a Nation's deliberation (its stewards' names and e-mails, their recommendations,
  criteria, comments and conflict declarations): its own stewards and representative;
- what it sends the researcher (a request for changes, its decision's reason and
  conditions): those and the researcher;
- everyone else who may see the request (coordinators, the other Nation, a team member
  whose steward role reaches the request) reads each Nation's status only, and people
  who may not know of the request (an admin, a team member with no such role) get 404.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import select

from portal.agreements import downloads as agreement_downloads
from portal.audit.models import AuditEvent, AuditEventNation
from portal.db import session_scope
from portal.notify.models import OutboxMessage
from portal.registry.models import Nation
from portal.requests.models import AccessRequest

from apis import Api
from flows import COMPLETE, PEOPLE, Flow
from helpers import module_app, seed_nations, seed_people, sign_in

CEDAR, HERON = "red-cedar", "blue-heron"

# --- the viewers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    email: str
    roles: tuple
    insider_of: frozenset = frozenset()  # the Nations whose deliberations they read
    researcher: bool = False  # reads what the Nations send the researcher
    sees: bool = True  # may know of the request at all


TEAM_MEMBER = "team.member@example.org"
TEAM_STEWARD = "team.steward@example.org"


def _viewer(key: str, **kwargs) -> Viewer:
    email, roles = PEOPLE[key]
    return Viewer(email, tuple(roles), **kwargs)


VIEWERS = {
    "researcher": _viewer("researcher", researcher=True),
    "team_member": Viewer(TEAM_MEMBER, ("researcher",), sees=False),
    # A Red Cedar steward on the team: sees the request, but never its judging.
    "team_steward": Viewer(TEAM_STEWARD, (("steward", CEDAR),)),
    "coordinator": _viewer("coordinator"),
    "cedar_steward": _viewer("cedar_steward3", insider_of=frozenset({CEDAR})),
    "cedar_rep": _viewer("cedar_rep", insider_of=frozenset({CEDAR})),
    "heron_steward": _viewer("heron_steward", insider_of=frozenset({HERON})),
    "heron_rep": _viewer("heron_rep", insider_of=frozenset({HERON})),
    "admin": _viewer("admin", sees=False),
}
NAMES = {  # distinctive names, so that their absence from a page means something
    "s1.cedar@example.org": "Ada Cedarsteward",
    "s2.cedar@example.org": "Ben Cedarsteward",
    "s3.cedar@example.org": "Cal Cedarsteward",
    "s.heron@example.org": "Dee Heronsteward",
}

# --- what is kept, what is sent, and where each is shown ------------------------------

CONFLICT = "my sister works on this team (sentinel CF1)"
CEDAR_COMMENT = "Strong benefit for the community (sentinel CR1)"
CEDAR_CRITERIA = "Met: co-designed with the health council (sentinel CC1)"
HERON_COMMENT = "Revised consent plan is adequate (sentinel HR1)"
HERON_CHANGES = "Please describe how parents consent (sentinel HX1)"
CEDAR_REASON = "Approved for the children in care (sentinel CD1)"
CEDAR_CONDITION = "Results shown to the Cedar council first (sentinel CD2)"
HERON_REASON = "Approved after the consent changes (sentinel HD1)"
HERON_CONDITION = "No school-level tables (sentinel HD2)"

PAGE, TIMELINE, MAIL = "page", "timeline", "mail"
API_REQUEST, API_EVENTS = "api_request", "api_events"
SURFACES = (PAGE, API_REQUEST, API_EVENTS, TIMELINE, MAIL)


@dataclass(frozen=True)
class Secret:
    label: str
    texts: tuple[str, ...]
    nation: str
    sent: bool  # sent to the researcher, not only the Nation's own deliberation
    shown_in: frozenset  # where a reader finds it (mail: see MAILED)

    def readable_by(self, viewer: Viewer) -> bool:
        return self.nation in viewer.insider_of or (self.sent and viewer.researcher)


def _secret(label, texts, nation, shown_in, sent=False) -> Secret:
    texts = (texts,) if isinstance(texts, str) else tuple(texts)
    return Secret(label, texts, nation, sent, frozenset(shown_in))


STEWARDS = {CEDAR: [e for e in NAMES if "cedar" in e], HERON: ["s.heron@example.org"]}
REVIEWS = {PAGE, API_REQUEST}  # a review's author, words and comment
ACTORS = {PAGE, TIMELINE}  # who did what: pages name people
ADDRESSES = {API_EVENTS}  # the API gives the e-mail address they acted under
DECISIONS = {PAGE, API_REQUEST, API_EVENTS, TIMELINE}  # a decision's reason and conditions
SECRETS = [
    _secret("cedar stewards' names", [NAMES[e] for e in STEWARDS[CEDAR]], CEDAR, REVIEWS | ACTORS),
    _secret("cedar stewards' e-mails", STEWARDS[CEDAR], CEDAR, ADDRESSES),
    _secret("cedar conflict declaration", CONFLICT, CEDAR, REVIEWS),
    _secret("cedar review comment", CEDAR_COMMENT, CEDAR, REVIEWS),
    _secret("cedar criteria notes", CEDAR_CRITERIA, CEDAR, {API_REQUEST}),
    _secret("heron steward's name", NAMES["s.heron@example.org"], HERON, REVIEWS | ACTORS),
    _secret("heron steward's e-mail", STEWARDS[HERON], HERON, ADDRESSES),
    _secret("heron review comment", HERON_COMMENT, HERON, REVIEWS),
    _secret("heron changes asked", HERON_CHANGES, HERON, SURFACES, sent=True),
    _secret("cedar decision reason", CEDAR_REASON, CEDAR, DECISIONS, sent=True),
    _secret("cedar condition", CEDAR_CONDITION, CEDAR, DECISIONS, sent=True),
    _secret("heron decision reason", HERON_REASON, HERON, DECISIONS, sent=True),
    _secret("heron condition", HERON_CONDITION, HERON, DECISIONS, sent=True),
]
# Who is mailed which secret: only the request for changes is mailed, to the researcher.
MAILED = {("researcher", "heron changes asked")}

# --- the request, built once for the module --------------------------------------------


@dataclass
class Deliberated:
    app: object
    ref: str
    api: Api


def _deliberate(flow: Flow) -> str:
    team = [
        *COMPLETE["team"],
        {"name": "Terry Teammate", "email": TEAM_MEMBER, "role": "Analyst"},
        {"name": "Stevie Teamsteward", "email": TEAM_STEWARD, "role": "Liaison"},
    ]
    ref = flow.to_review(team=team)
    flow.do("heron_steward", "review", ref, HERON, recommendation="changes", comment=HERON_CHANGES)
    assert flow.status(ref) == "changes_requested"
    flow.edit("researcher", ref, methods=COMPLETE["methods"] + " Parents consent in writing.")
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    flow.do(
        "cedar_steward1", "review", ref, CEDAR,
        recommendation=None, conflict_of_interest=True, comment=CONFLICT,
    )  # fmt: skip
    criteria = {"benefit": CEDAR_CRITERIA, "method": "met"}
    flow.do("cedar_steward2", "review", ref, CEDAR, comment=CEDAR_COMMENT, criteria=criteria)
    flow.do("cedar_steward3", "review", ref, CEDAR)
    flow.do("heron_steward", "review", ref, HERON, comment=HERON_COMMENT)
    flow.do("cedar_rep", "decide", ref, CEDAR, reason=CEDAR_REASON, conditions=[CEDAR_CONDITION])
    flow.do("heron_rep", "decide", ref, HERON, reason=HERON_REASON, conditions=[HERON_CONDITION])
    assert flow.status(ref) == "awaiting_signatures"
    with flow.app.app_context(), session_scope() as session:  # read it, an audited event
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        agreement_downloads.download(session, flow.user(session, "heron_steward"), request)
    return ref


@pytest.fixture(scope="module")
def deliberated(migrated_template, tmp_path_factory) -> Iterator[Deliberated]:
    folder = tmp_path_factory.mktemp("deliberation")
    with module_app(migrated_template, folder) as app:
        seed_nations(app)
        people = dict(PEOPLE.values()) | {v.email: v.roles for v in VIEWERS.values()}
        seed_people(app, people.items(), NAMES)
        ref = _deliberate(Flow(app))
        yield Deliberated(app, ref, Api(app))


def surfaces_for(world: Deliberated, who: str) -> dict[str, str]:
    """Every place ``who`` reads the request, as text; 404 where they may not know of it."""
    viewer = VIEWERS[who]
    client = world.app.test_client()
    assert sign_in(client, viewer.email).status_code == 302
    expected = 200 if viewer.sees else 404
    found = {}
    for surface, response in (
        (PAGE, client.get(f"/requests/{world.ref}")),
        (TIMELINE, client.get(f"/requests/{world.ref}/timeline")),
        (API_REQUEST, world.api.get(viewer.email, f"/requests/{world.ref}")),
        (API_EVENTS, world.api.get(viewer.email, f"/requests/{world.ref}/events?limit=100")),
    ):
        assert response.status_code == expected, f"{who}: {surface} {response.status_code}"
        found[surface] = response.get_data(as_text=True)
    if viewer.sees:
        assert (
            world.api.get(viewer.email, f"/requests/{world.ref}/events?limit=100").get_json()[
                "next_cursor"
            ]
            is None
        ), "every event fits one page"
    with world.app.app_context(), session_scope() as session:
        mail = session.exec(
            select(OutboxMessage).where(OutboxMessage.recipient == viewer.email)
        ).all()
        found[MAIL] = "\n".join(f"{m.subject}\n{m.body}" for m in mail)
    return found


@pytest.mark.parametrize("who", list(VIEWERS))
def test_each_viewer_reads_exactly_what_is_theirs(deliberated, who):
    """The sentinel of each secret, in each place: there for its readers (where that
    place shows it), absent for everyone else."""
    viewer, problems = VIEWERS[who], []
    texts = surfaces_for(deliberated, who)
    for secret in SECRETS:
        readable = viewer.sees and secret.readable_by(viewer)
        for surface in SURFACES:
            present = [t for t in secret.texts if t in texts[surface]]
            if not readable and present:
                problems.append(f"{surface} leaks the {secret.label}: {present}")
            shown_here = (
                (who, secret.label) in MAILED if surface == MAIL else surface in secret.shown_in
            )
            missing = [t for t in secret.texts if t not in texts[surface]]
            if readable and shown_here and missing:
                problems.append(f"{surface} lacks the {secret.label}: {missing}")
    for surface in (PAGE, TIMELINE):  # pages name people, never by their e-mail address
        for addresses in STEWARDS.values():
            if shown := [a for a in addresses if a in texts[surface]]:
                problems.append(f"{surface} shows e-mail addresses: {shown}")
    assert not problems, f"{who}:\n" + "\n".join(problems)


# --- the same, field by field: the API's request and events, and review words -----------


def review_events(world: Deliberated) -> list[tuple[int, str, dict]]:
    """(event id, its Nation's slug, details) of every steward review of the request."""
    with world.app.app_context(), session_scope() as session:
        rows = session.exec(
            select(AuditEvent.id, Nation.slug, AuditEvent.details)
            .join(AccessRequest, AccessRequest.id == AuditEvent.request_id)
            .join(AuditEventNation, AuditEventNation.event_id == AuditEvent.id)
            .join(Nation, Nation.id == AuditEventNation.nation_id)
            .where(AccessRequest.ref == world.ref, AuditEvent.action == "review.recorded")
        ).all()
    assert len(rows) == 5, rows  # Heron's two, Cedar's three
    return [tuple(row) for row in rows]


VISIBLE = [who for who, viewer in VIEWERS.items() if viewer.sees]


@pytest.mark.parametrize("who", VISIBLE)
def test_the_api_request_shows_each_track_as_far_as_the_viewer_may_read(deliberated, who):
    viewer = VIEWERS[who]
    body = deliberated.api.get(viewer.email, f"/requests/{deliberated.ref}").get_json()
    tracks = {track["nation"]: track for track in body["tracks"]}
    assert set(tracks) == {CEDAR, HERON}
    for nation, track in tracks.items():
        insider = nation in viewer.insider_of
        reads_sent = insider or viewer.researcher
        assert track["status"] == "approved", "everyone reads each track's status"
        if insider:
            stewards = {review["steward"] for review in track["reviews"]}
            assert stewards == {NAMES[email] for email in STEWARDS[nation]}
        else:
            assert track["reviews"] is None, f"{nation}'s reviews shown to {who}"
        changes = [c["comment"] for c in track["changes_requested"]]
        assert changes == ([HERON_CHANGES] if nation == HERON and reads_sent else [])
        decision = track["decision"]
        if reads_sent:
            assert decision["reason"] in (CEDAR_REASON, HERON_REASON)
            assert (decision["representative"] is not None) == insider
        else:
            assert decision is None, f"{nation}'s decision shown to {who}"


@pytest.mark.parametrize("who", VISIBLE)
def test_the_events_name_who_judged_only_for_the_nation_itself(deliberated, who):
    viewer = VIEWERS[who]
    url = f"/requests/{deliberated.ref}/events?limit=100"
    events = {e["id"]: e for e in deliberated.api.get(viewer.email, url).get_json()["items"]}
    secret_emails = {e for n in STEWARDS if n not in viewer.insider_of for e in STEWARDS[n]}
    problems = []
    for event in events.values():
        if event["actor"] in secret_emails:
            problems.append(f"#{event['id']} {event['action']} names {event['actor']}")
    for event_id, nation, details in review_events(deliberated):
        if nation in viewer.insider_of:
            shown = events[event_id]
            assert not shown["withheld"] and shown["details"] == details
        elif event_id in events:  # that a steward reviewed (or declared a conflict) at all
            problems.append(f"#{event_id} ({nation}'s review) listed: {events[event_id]}")
    assert not problems, f"{who}:\n" + "\n".join(problems)


@pytest.mark.parametrize("who", VISIBLE)
def test_another_nations_reviews_are_not_listed_even_withheld(deliberated, who):
    """A probe read a conflict from a withheld review event beside a count of reviews that
    did not rise: the timeline and the request page list a Nation's reviews to its own
    people alone, as the API does."""
    viewer, texts = VIEWERS[who], surfaces_for(deliberated, who)
    own = [n for _, n, _ in review_events(deliberated) if n in viewer.insider_of]
    listed = texts[TIMELINE].count("Steward review recorded")
    assert listed == len(own), f"{who} finds {listed} reviews listed, of {own}"
    assert ("Steward review recorded" in texts[PAGE]) == bool(own)


def _count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


@pytest.mark.parametrize("who", VISIBLE)
def test_recommendations_are_read_only_by_the_nation_itself(deliberated, who):
    """How many reviews each page shows as approve, changes or a conflict: those of the
    viewer's own Nation, and none of another's."""
    viewer, texts = VIEWERS[who], surfaces_for(deliberated, who)
    own = [d for _, nation, d in review_events(deliberated) if nation in viewer.insider_of]
    for word, words in (("approve", "recommends approval"), ("changes", "asks for changes")):
        expected = sum(d["recommendation"] == word for d in own)
        # The request page shows the latest events only: never more than the Nation's own.
        on_page = _count(rf"Steward review recorded \({words}\)", texts[PAGE])
        assert on_page <= expected and (expected or not on_page), word
        assert _count(rf"recommendation: {words}\b", texts[TIMELINE]) == expected, word
    conflicts = sum(bool(d["conflict_of_interest"]) for d in own)
    assert _count("conflict of interest declared", texts[TIMELINE]) == conflicts
    assert ("declared a conflict of interest" in texts[PAGE]) == bool(conflicts)
