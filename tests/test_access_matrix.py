"""Who may reach what: every route of the app and every operation of the API, for every
kind of person, on one two-Nation request in four states (draft, screening, under
review, awaiting signatures).

The routes are read from the app's URL map and the operations from the OpenAPI
document it serves, so a new one cannot slip past: each must be named in ROUTES or
OPERATIONS below (the tests check both ways), whose rule says what each person gets.
The rules restate the README's, not the code's:

- A request a person may not know of answers 404: drafts are their researcher's
  alone; a submitted request is seen by its researcher, coordinators, and the
  stewards and representatives of the Nations whose data it touches. Nobody else:
  not its team members (unless a role of theirs reaches it), other researchers,
  admins, or a third Nation.
- An action the person's roles do not allow answers 403; a wrong state 409. No one
  on the requesting side judges the request.
- The pages send the anonymous to /sign-in (302); the API answers them 401.

Every probe is a no-op by construction: a body the step's own input check refuses
(422, or the page's form back with its errors), so a caller who passes the who and
the when is told so without anything changing. Nothing may change after any probe
but the few marked as writes (creating a draft, a download that is audited, ...).

Every text answer is also scanned for what the person may not read (invariant 9):
each Nation's deliberation (its stewards' names and e-mails, comments, criteria) is
its own people's; what it sends the researcher (decision reason, conditions) is
theirs and the researcher's; and no answer names a request the person may not know
of.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pytest
import sqlalchemy as sa
from sqlmodel import select

from portal.agreements import downloads as agreement_downloads
from portal.agreements.models import AgreementSignature
from portal.audit.models import AuditEvent
from portal.auth import service as auth
from portal.auth.models import ApiToken, RoleMembership, User
from portal.db import session_scope
from portal.notify.models import OutboxMessage
from portal.registry import service as registry
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.models import Decision, Review
from portal.transparency import routes as transparency_routes
from portal.workflow import invitations

from apis import PREFIX, Api
from flows import COMPLETE, PEOPLE, Flow
from helpers import (
    csrf_token,
    given_twice,
    labels_on_lists,
    module_app,
    seed_nations,
    seed_people,
    sign_in,
)

# --- the people ------------------------------------------------------------------------

TOUCHED = ("red-cedar", "blue-heron")  # the Nations whose data the request touches
THIRD = "green-kestrel"  # a Nation it does not touch
NATIONS = (*TOUCHED, THIRD)
STATES = ("draft", "screening", "under_review", "awaiting_signatures")
DRAFT, SCREENING, UNDER_REVIEW, AWAITING = STATES


@dataclass(frozen=True)
class Person:
    email: str | None  # None: not signed in
    roles: tuple = ()  # "coordinator", or ("steward", "red-cedar")
    name: str | None = None
    owner: bool = False  # the request's researcher
    on_team: bool = False  # named in the request's team (by e-mail)

    @property
    def anonymous(self) -> bool:
        return self.email is None

    def holds(self, role: str, nation: str | None = None) -> bool:
        return (role, nation) in self.roles if nation else role in self.roles

    def nations(self) -> set[str]:
        return {r[1] for r in self.roles if isinstance(r, tuple)}

    def sees(self, state: str) -> bool:
        """May know of the request in this state at all."""
        if self.owner:
            return True
        if state == DRAFT:
            return False
        return self.holds("coordinator") or bool(self.nations() & set(TOUCHED))

    def insider_of(self) -> set[str]:
        """The Nations whose deliberations they read: their own, never from the
        requesting side."""
        return set() if self.owner or self.on_team else self.nations() & set(TOUCHED)

    def judges(self, role: str, nation: str) -> bool:
        return self.holds(role, nation) and not (self.owner or self.on_team)


TEAM_MEMBER = "team.member@example.org"
INVITEE = "invited.cedar@example.org"
TEAM_STEWARD = "team.steward@example.org"
STEWARD_NAMES = {  # distinctive, so that their absence from a page means something
    "s1.cedar@example.org": "Ada Cedarsteward",
    "s2.cedar@example.org": "Ben Cedarsteward",
    "s3.cedar@example.org": "Cal Cedarsteward",
    "s.heron@example.org": "Dee Heronsteward",
}


def _person(key: str, **kwargs) -> Person:
    email, roles = PEOPLE[key]
    return Person(email, tuple(roles), STEWARD_NAMES.get(email), **kwargs)


WHO: dict[str, Person] = {
    "anonymous": Person(None),
    "researcher": _person("researcher", owner=True),
    "team_member": Person(TEAM_MEMBER, ("researcher",), on_team=True),
    "team_steward": Person(TEAM_STEWARD, (("steward", "red-cedar"),), on_team=True),
    "other_researcher": _person("other_researcher"),
    "coordinator": _person("coordinator"),
    "admin": _person("admin"),
    "cedar_steward": _person("cedar_steward1"),
    "cedar_rep": _person("cedar_rep"),
    "heron_steward": _person("heron_steward"),
    "heron_rep": _person("heron_rep"),
    "kestrel_steward": Person("s.kestrel@example.org", (("steward", THIRD),)),
    "kestrel_rep": Person("rep.kestrel@example.org", (("representative", THIRD),)),
}
# People who take part in building the world but are not probed themselves.
BACKSTAGE = [_person(k) for k in ("cedar_steward2", "cedar_steward3")]

# --- what each Nation keeps to itself, and what it sends -------------------------------

DELIBERATION = {
    "red-cedar": [
        "Cedar steward note: community consent unclear (sentinel C1)",
        "Cedar criteria note: benefit not shown (sentinel C2)",
        *[n for e, n in STEWARD_NAMES.items() if "cedar" in e],
        *[e for e in STEWARD_NAMES if "cedar" in e],
    ],
    "blue-heron": [
        "Heron steward note: schools data is sensitive (sentinel H1)",
        "Heron criteria note: method sound (sentinel H2)",
        *[n for e, n in STEWARD_NAMES.items() if "heron" in e],
        *[e for e in STEWARD_NAMES if "heron" in e],
    ],
}
SENT = {
    "red-cedar": ["Cedar approves for its children (sentinel C3)", "Cedar condition (sentinel C4)"],
    "blue-heron": ["Heron approves gladly (sentinel H3)", "Heron condition (sentinel H4)"],
}


def may_read(person: Person) -> set[str]:
    allowed: set[str] = set()
    for nation in person.insider_of():
        allowed |= {*DELIBERATION[nation], *SENT[nation]}
    if person.owner or person.on_team:  # the requesting side reads what the Nations send
        allowed |= {s for nation in TOUCHED for s in SENT[nation]}
    if person.holds("admin"):
        # Administrators manage every login: they read everyone's name and e-mail address
        # (the people pages), never a Nation's deliberation or what it sends.
        allowed |= {s for n in TOUCHED for s in DELIBERATION[n] if s in STEWARD_NAMES or "@" in s}
        allowed |= set(STEWARD_NAMES.values())
    for nation in person.nations() & set(TOUCHED):
        # A Nation's people know who its stewards are (the record lists designations),
        # even when a request of their own keeps the stewards' deliberation from them.
        allowed |= {s for s in DELIBERATION[nation] if s in STEWARD_NAMES or "@" in s}
        allowed |= {name for email, name in STEWARD_NAMES.items() if nation.split("-")[1] in email}
    return allowed


ALL_SECRETS = {s for n in TOUCHED for s in (*DELIBERATION[n], *SENT[n])}

# --- the world: one database for the module ----------------------------------------------


@dataclass
class World:
    app: object
    flow: Flow
    refs: dict[str, str]  # state -> ref
    ids: dict[str, int]  # e-mail -> user id
    api: Api
    clients: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # who -> CSRF token
    invitation_id: int = 0  # a Red Cedar steward's invitation, revoked already
    proposal_id: int = 0  # an administrator's proposed rule change, withdrawn already
    delivery_id: str = ""  # a notice to cedar-health's custodian, delivered already


def _revoked_invitation(app) -> int:
    """An invitation Red Cedar's representative made and withdrew: revoking it again is
    refused (409) to them, and forbidden to everyone else."""
    with app.app_context(), session_scope() as session:
        rep = session.exec(select(User).where(User.email == WHO["cedar_rep"].email)).one()
        cedar = registry.get_nation(session, "red-cedar")
        _token, made = invitations.invite(
            session, rep, INVITEE, "steward", cedar, link_for=lambda token: token
        )
        invitations.revoke(session, rep, made.id)
        return made.id


def _withdrawn_proposal(app) -> int:
    """A rule change the administrator proposed and withdrew: answering or withdrawing it
    is refused (409) to those who may, forbidden to everyone else."""
    from portal.workflow.proposals import Propose, WithdrawProposal, govern

    change = {"lines": {"add": [["p2", "*", "review", "ethics_approval_given"]]}}
    with app.app_context(), session_scope() as session:
        admin = session.exec(select(User).where(User.email == WHO["admin"].email)).one()
        made = govern(session, admin, Propose("Coordinators read records", "", change))
        govern(session, admin, WithdrawProposal(made.id))
        return made.id


def _delivered_notice(app) -> str:
    """A notice to the custodian of cedar-health (Red Cedar's data), delivered: the
    coordinators and Red Cedar's people read it, and sending it again is refused (409)."""
    from portal.notify.custodians import enqueue
    from portal.notify.models import DeliveryStatus

    with app.app_context(), session_scope() as session:
        dataset = registry.get_dataset(session, "cedar-health")
        made = enqueue(session, dataset.id, None, "access.started", {"dataset": "cedar-health"})
        made.status = DeliveryStatus.DELIVERED
        return made.id


def _build_requests(flow: Flow) -> dict[str, str]:
    team = [
        *COMPLETE["team"],
        {"name": "Terry Teammate", "email": TEAM_MEMBER, "role": "Analyst"},
        {"name": "Stevie Teamsteward", "email": TEAM_STEWARD, "role": "Liaison"},
    ]
    (c1, c2, *_), (h1, h2, *_) = DELIBERATION["red-cedar"], DELIBERATION["blue-heron"]
    refs = {DRAFT: flow.draft(team=team, purpose="")}  # incomplete: submitting it is refused
    refs[SCREENING] = flow.draft(team=team)
    flow.do("researcher", "submit", refs[SCREENING])
    refs[UNDER_REVIEW] = flow.to_review(team=team)
    # cedar_steward2 reviews, so the probed cedar_steward (1) still may.
    flow.do(
        "cedar_steward2", "review", refs[UNDER_REVIEW], "red-cedar",
        comment=c1, criteria={"benefit": c2},
    )  # fmt: skip
    refs[AWAITING] = ref = flow.to_review(team=team)
    flow.do("cedar_steward1", "review", ref, "red-cedar", comment=c1, criteria={"benefit": c2})
    flow.do("cedar_steward2", "review", ref, "red-cedar", comment=c1)
    flow.do("heron_steward", "review", ref, "blue-heron", comment=h1, criteria={"method": h2})
    for rep, nation in (("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron")):
        reason, condition = SENT[nation]
        flow.do(rep, "decide", ref, nation, reason=reason, conditions=[condition])
    assert [flow.status(refs[s]) for s in STATES] == list(STATES)
    # Both Nations' stewards read the agreement (each download is an audited event).
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        for who in ("cedar_steward2", "heron_steward"):
            agreement_downloads.download(session, flow.user(session, who), request)
    return refs


@pytest.fixture(scope="module")
def world(migrated_template, tmp_path_factory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("access-matrix")
    # Every person probes "forgot password" for one address: not a throttle test.
    limits = {"LIMIT_FORGOT_PASSWORD_PER_ACCOUNT": "1000 per hour"}
    limits["LIMIT_FORGOT_PASSWORD_PER_ADDRESS"] = "1000 per hour"
    with module_app(migrated_template, folder, **limits) as app:
        seed_nations(app)
        with app.app_context(), session_scope() as session:
            registry.create_nation(session, THIRD, "Green Kestrel Nation (fictional)", "OCAP")
            registry.create_dataset(session, "kestrel-fish", "Kestrel fish", "Fish", [THIRD])
        everyone = [p for p in (*WHO.values(), *BACKSTAGE) if not p.anonymous]
        names = {p.email: p.name for p in everyone if p.name}
        ids = seed_people(app, [(p.email, p.roles) for p in everyone], names)
        flow = Flow(app)
        world = World(app, flow, _build_requests(flow), ids, Api(app))
        world.invitation_id = _revoked_invitation(app)
        world.proposal_id = _withdrawn_proposal(app)
        world.delivery_id = _delivered_notice(app)
        # A record's PDF is its HTML handed to WeasyPrint: keep the HTML, which can be
        # read for what it shows (and is quicker to make).
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(transparency_routes, "html_to_pdf", lambda html: html.encode())
            yield world


def client_for(world: World, who: str):
    """A signed-in test client (or an anonymous one), and its CSRF token."""
    if who not in world.clients:
        client = world.app.test_client()
        person = WHO[who]
        if person.anonymous:
            page = client.get("/sign-in").text
        else:
            signed = sign_in(client, person.email)
            assert signed.status_code == 302, f"{who} could not sign in"
            page = client.get("/account/tokens").text
        world.clients[who], world.tokens[who] = client, csrf_token(page)
    return world.clients[who], world.tokens[who]


def snapshot(world: World) -> tuple:
    """Everything a probe must leave as it was, read in one query."""
    tables = (
        AuditEvent,
        Review,
        Decision,
        OutboxMessage,
        AgreementSignature,
        RoleMembership,
        AccessRequest,
    )
    counts = select(*(select(sa.func.count()).select_from(t).scalar_subquery() for t in tables))
    statuses = (
        select(AccessRequest.ref, AccessRequest.status, AccessRequest.updated_at)
        .where(AccessRequest.ref.in_(world.refs.values()))
        .order_by(AccessRequest.ref)
    )
    live = select(ApiToken.id).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    profiles = select(Nation.slug, Nation.review_quorum, Nation.min_approvals).order_by(Nation.id)
    with world.app.extensions["portal.db"].connect() as connection:
        return (
            tuple(connection.execute(counts).one()),
            tuple(map(tuple, connection.execute(statuses))),
            tuple(connection.execute(live).scalars()),
            tuple(map(tuple, connection.execute(profiles))),
        )


# --- what each route and operation answers -----------------------------------------------


@dataclass(frozen=True)
class Case:
    """One call: a route or operation, a method, and the values of its path."""

    key: str  # the endpoint (pages) or "METHOD /path" (API)
    method: str
    path: str
    state: str | None = None  # the request's state, for a request's routes
    nation: str | None = None  # the Nation named in the path or the body
    body: dict | None = None
    channel: str | None = None  # a conversation's kind of thread


@dataclass(frozen=True)
class Expect:
    status: int
    writes: bool = False  # a success that may change things (a draft, an audited download)


Rule = Callable[[Person, Case], Expect | int]


def owner(p: Person, c: Case) -> bool:
    return p.owner


def coordinator(p: Person, c: Case) -> bool:
    return p.holds("coordinator")


def its_steward(p: Person, c: Case) -> bool:
    return p.judges("steward", c.nation)


def its_representative(p: Person, c: Case) -> bool:
    return p.judges("representative", c.nation)


def party(p: Person, c: Case) -> bool:
    """The researcher, and a representative of each approving Nation (there is none
    before every Nation approved: a representative is no party yet)."""
    approved = c.state == AWAITING
    return p.owner or (approved and any(p.judges("representative", n) for n in TOUCHED))


# The workflow's steps: who may take each, and from which of the four states. The
# probe of decide is a refusal, which a Nation may make from submission until access
# begins (README, invariant 2); revoke needs the Nation's approval, sign all of them.
STEPS: dict[str, tuple[Callable[[Person, Case], bool], set[str]]] = {
    "edit": (owner, {DRAFT}),
    "submit": (owner, {DRAFT}),
    "withdraw": (owner, set(STATES)),
    "screen": (coordinator, {SCREENING}),
    "review": (its_steward, {UNDER_REVIEW}),
    "decide": (its_representative, {SCREENING, UNDER_REVIEW, AWAITING}),
    "revoke": (its_representative, {AWAITING}),
    "sign": (party, {AWAITING}),
    # The end: only after access (none of the four states); the researcher closes and
    # attests, each Nation's own people answer for it.
    "close": (owner, set()),
    "attest_destruction": (owner, set()),
    "acknowledge_destruction": (
        lambda p, c: its_steward(p, c) or its_representative(p, c),
        set(),
    ),
    # Outputs before publication: an active request's only, so never now in these states.
    "submit_output": (owner, set()),
    "review_output": (its_steward, set()),
    "decide_output": (its_representative, set()),
    # Renewal and amendment: the researcher's, from an active request only.
    "renew": (owner, set()),
    "amend": (owner, set()),
    # The probe writes in the Nation's own discussion: its people, never the requesting side.
    "message": (
        lambda p, c: its_steward(p, c) or its_representative(p, c),
        {SCREENING, UNDER_REVIEW, AWAITING},
    ),
}


def step(action: str, passes: int) -> Rule:
    """404 if they may not know of it, 403 if not theirs to do, 409 if not now, else
    ``passes``: the answer to the probe's refused input."""
    who, states = STEPS[action]

    def rule(p: Person, c: Case) -> int:
        if not p.sees(c.state):
            return 404
        if not who(p, c):
            return 403
        return passes if c.state in states else 409

    return rule


def reads_thread(p: Person, c: Case) -> bool:
    """The researcher and the coordinators read theirs; the researcher and the Nation's
    people (a team member among them on the researcher's side) read the researcher's
    thread with that Nation; the Nation's own discussion is its people's, never the
    requesting side's (invariant 10)."""
    if c.channel == "coordinators":
        return c.nation is None and (p.owner or p.holds("coordinator"))
    if c.nation is None:
        return False
    if c.channel == "nation":
        return p.owner or p.holds("steward", c.nation) or p.holds("representative", c.nation)
    return its_steward(p, c) or its_representative(p, c)


def conversation(passes: int) -> Rule:
    """A thread's page: 404 for a thread one may not read (there is none in a draft)."""
    return lambda p, c: (
        passes if c.state != DRAFT and p.sees(c.state) and reads_thread(p, c) else 404
    )


def read(p: Person, c: Case) -> int:
    return 200 if p.sees(c.state) else 404


def agreement(p: Person, c: Case) -> Expect | int:
    """The agreement exists once every Nation approved; each download is audited."""
    if not p.sees(c.state):
        return 404
    return Expect(200, writes=True) if c.state == AWAITING else 404


def create(created: int) -> Rule:
    return lambda p, c: Expect(created, writes=True) if p.holds("researcher") else 403


def own_nation(role_statuses: dict[str, int], writes: bool = False) -> Rule:
    """A Nation's own pages: its people (by role) get the status named, others 403."""

    def rule(p: Person, c: Case) -> Expect | int:
        for role, status in role_statuses.items():
            if p.holds(role, c.nation):
                return Expect(status, writes=writes and status < 400)
        return 403

    return rule


def admin(status: int) -> Rule:
    """The administration pages: administrators (by the policy's manage_users, invite,
    manage_registry and manage_jobs) get ``status``; everyone else 403."""
    return lambda p, c: status if p.holds("admin") else 403


def signed_in(rule: Rule | int, anonymous: int = 302) -> Rule:
    """The pages send the anonymous to /sign-in; the API answers 401."""

    def wrapped(p: Person, c: Case) -> Expect | int:
        if p.anonymous:
            return anonymous
        return rule(p, c) if callable(rule) else rule

    return wrapped


def by_method(**statuses: Rule | int) -> Rule:
    def rule(p: Person, c: Case) -> Expect | int:
        found = statuses[c.method.lower()]
        return found(p, c) if callable(found) else found

    return rule


def proposes(status: int) -> Rule:
    """Administrators propose portal-wide rule changes; a representative for its Nation
    (the probe proposes portal-wide: 403 to them)."""
    return lambda p, c: status if p.holds("admin") else 403


def may_propose(p: Person, c: Case) -> int:
    """The new-proposal page: administrators and every Nation's representatives."""
    reps = any(isinstance(r, tuple) and r[0] == "representative" for r in p.roles)
    return 200 if p.holds("admin") or reps else 403


def cedar_answers(p: Person, c: Case) -> int:
    """The probe answers for Red Cedar a proposal that was withdrawn: 409 to its
    representatives (even one on a request's team: this is no request), 403 to others."""
    return 409 if p.holds("representative", "red-cedar") else 403


def needs_two_factor(p: Person) -> bool:
    """Representatives and admins (they have it set up, in this world)."""
    return p.holds("admin") or any(
        isinstance(r, tuple) and r[0] == "representative" for r in p.roles
    )


def reads_deliveries(p: Person) -> bool:
    """The log's readers: coordinators, and every Nation's stewards and representatives."""
    return p.holds("coordinator") or bool(p.nations())


def cedar_delivery(status: int) -> Rule:
    """Red Cedar's dataset's notice: its people and the coordinators; 404 to others."""
    return lambda p, c: status if p.holds("coordinator") or "red-cedar" in p.nations() else 404


def labels_of_cedar_health(status: int) -> Rule:
    """A Nation's labels on cedar-health: ``status`` to Red Cedar's representatives, 404 to
    another Nation's (its data is not there), 403 to everyone else."""

    def rule(p: Person, c: Case) -> int:
        if not p.holds("representative", c.nation):
            return 403
        return status if c.nation == "red-cedar" else 404

    return rule


API_ROUTE = "api"  # an API route of the URL map: walked as its OpenAPI operation
READ_RECORD = {"steward": 200, "representative": 200}

# Every route of the URL map but static, by endpoint. The probe bodies are below.
ROUTES: dict[str, Rule | str] = {
    "main.home": by_method(get=200),
    "main.favicon": lambda p, c: 200,  # the icon, for everyone
    # The language switch, for everyone: a cookie, or a signed-in person's own setting.
    "main.choose_language": lambda p, c: 302 if p.anonymous else Expect(302, writes=True),
    # What operators' machines ask, with no sign-in (portal/ops.py): alive, ready (the
    # world is migrated and its rules loaded), and the metrics, which are not there
    # without a token configured (tests/test_metrics.py reads them with one).
    "ops.alive": lambda p, c: 200,
    "ops.ready": lambda p, c: 200,
    "ops.serve_metrics": lambda p, c: 404,
    # A failed sign-in is an audit event (kept although the answer is 401).
    "auth.sign_in": lambda p, c: (
        302 if not p.anonymous else (200 if c.method == "GET" else Expect(401, writes=True))
    ),
    # No sign-in waits for its code: back to the password.
    "auth.sign_in_code": lambda p, c: 302,
    # The same answer for everyone, and the request is an audit event.
    "auth.forgot_password": by_method(get=200, post=Expect(200, writes=True)),
    "auth.reset_password": lambda p, c: 404,  # token: not a link the portal sent
    "auth.account": signed_in(200),
    "auth.change_password": signed_in(422),  # not the current password
    "auth.end_other_sessions": signed_in(Expect(302, writes=True)),  # this one goes on
    # Set up two-factor sign-in: those who have it go back to the account page; for the
    # others, the page keeps the secret it shows until a code confirms it.
    "auth.two_factor": signed_in(
        lambda p, c: (
            302 if needs_two_factor(p) else by_method(get=Expect(200, writes=True), post=422)(p, c)
        )
    ),
    # Turning it off: never for those whose roles require it; else the password is wrong.
    "auth.disable_two_factor": signed_in(lambda p, c: 403 if needs_two_factor(p) else 422),
    "auth.sign_out": signed_in(Expect(302, writes=True)),  # probed on a client of its own
    "auth.tokens": signed_in(by_method(get=200, post=Expect(200, writes=True))),  # one's own
    # token_id: a live token of the researcher's, made for the probe.
    "auth.revoke_token": signed_in(lambda p, c: Expect(302, writes=True) if p.owner else 404),
    "agreements.verify": by_method(get=200, post=422),
    "requests.new": signed_in(by_method(get=200, post=create(302))),
    "requests.show": signed_in(read),
    "requests.timeline": signed_in(read),
    "requests.edit": signed_in(by_method(get=step("edit", 200), post=step("edit", 422))),
    "requests.withdraw": signed_in(step("withdraw", 422)),
    "requests.open_amendment": signed_in(step("renew", 422)),  # renew and amend alike
    "reviews.screen": signed_in(by_method(get=step("screen", 200), post=step("screen", 422))),
    "reviews.review": signed_in(by_method(get=step("review", 200), post=step("review", 422))),
    "reviews.decide": signed_in(by_method(get=step("decide", 200), post=step("decide", 422))),
    "reviews.revoke": signed_in(by_method(get=step("revoke", 200), post=step("revoke", 422))),
    "agreements.sign": signed_in(step("sign", 422)),
    "conversations.thread": signed_in(by_method(get=conversation(200), post=conversation(422))),
    # Obligations exist once access began, which no request of this world has: the
    # obligation is not the request's (404) for everyone; who may do what on a real one
    # is pinned in tests/lifecycle/test_obligations.py and test_obligation_pages.py.
    "lifecycle.report": signed_in(lambda p, c: 404),
    "lifecycle.assess": signed_in(lambda p, c: 404),
    "lifecycle.report_file": signed_in(lambda p, c: 404),  # no obligation, so no report file
    # The end of access: only once access began, which no request of this world has (409
    # for those whose step it is); no attestation exists yet (404).
    "lifecycle.close": signed_in(by_method(get=step("close", 200), post=step("close", 422))),
    "lifecycle.attest": signed_in(
        by_method(get=step("attest_destruction", 200), post=step("attest_destruction", 422))
    ),
    "lifecycle.answer": signed_in(
        by_method(
            get=step("acknowledge_destruction", 200), post=step("acknowledge_destruction", 422)
        )
    ),
    "lifecycle.attestation_pdf": signed_in(lambda p, c: 404),
    "agreements.download": signed_in(agreement),
    "registry.profile": signed_in(
        by_method(get=own_nation({"representative": 200}), post=own_nation({"representative": 422}))
    ),
    "registry.designate": signed_in(own_nation({"representative": 422})),
    # The Nation's own conditions (preview or save): a parameter no number refused.
    "registry.rules": signed_in(own_nation({"representative": 422})),
    # user_id: someone who is no steward, so that the representative is told 404.
    "registry.remove": signed_in(own_nation({"representative": 404})),
    "transparency.nation_record": signed_in(own_nation(READ_RECORD)),
    "transparency.nation_record_csv": signed_in(own_nation(READ_RECORD, writes=True)),
    "transparency.nation_record_pdf": signed_in(own_nation(READ_RECORD, writes=True)),
    "registry.invitations": signed_in(
        by_method(get=own_nation({"representative": 200}), post=own_nation({"representative": 422}))
    ),
    # A mistyped link: not found, whoever opens it (no sign-in needed to accept one).
    "auth.invitation": lambda p, c: 404,
    # invitation_id: Red Cedar's revoked invitation: revoking it again is not now (409).
    "auth.revoke_invitation": signed_in(own_nation({"representative": 409})),
    "admin.people": signed_in(admin(200)),
    "admin.person": signed_in(admin(200)),
    "admin.grant": signed_in(admin(422)),
    "admin.revoke_role": signed_in(admin(422)),
    "admin.set_active": signed_in(admin(422)),
    "admin.invitations": signed_in(by_method(get=admin(200), post=admin(422))),
    "admin.nations": signed_in(by_method(get=admin(200), post=admin(422))),
    "admin.datasets": signed_in(by_method(get=admin(200), post=admin(422))),
    "admin.dataset": signed_in(by_method(get=admin(200), post=admin(422))),
    "admin.jobs": signed_in(by_method(get=admin(200), post=admin(422))),
    "admin.dataset_endpoint": signed_in(admin(422)),  # not an https:// address
    # The datasets' pages: every signed-in person reads them and the labels on them.
    "datasets.index": signed_in(200),
    "datasets.show": signed_in(200),
    # A Nation's labels: its representatives only (label_datasets); cedar-health holds
    # Red Cedar's data alone, so Blue Heron's representative is told 404.
    "datasets.attach": signed_in(labels_of_cedar_health(422)),
    "datasets.remove": signed_in(labels_of_cedar_health(404)),  # no label attached
    # The rules in words: every role reads them (read_rules); a version never recorded
    # is not found (number: the first version, and one that does not exist).
    "rules.in_force": signed_in(200),
    "rules.versions": signed_in(200),
    "rules.version": signed_in(lambda p, c: 200 if c.path.endswith("/1") else 404),
    # Portal-wide rule changes: read by everyone signed in (the rules are the members').
    "proposals.index": signed_in(200),
    "proposals.show": signed_in(200),
    "proposals.new": signed_in(by_method(get=may_propose, post=proposes(422))),
    "proposals.vote": signed_in(cedar_answers),
    "proposals.withdraw": signed_in(proposes(409)),  # the administrator proposed it
    # The custodians' delivery log (a delivered notice: sending it again is refused and
    # flashed, back to its page).
    "deliveries.index": signed_in(lambda p, c: 200 if reads_deliveries(p) else 403),
    "deliveries.show": signed_in(cedar_delivery(200)),
    "deliveries.retry": signed_in(cedar_delivery(302)),
    # Outputs before publication: output_id is one no request has (404 once the request
    # is seen); submitting, reviewing and deciding wait for an active request (409).
    "outputs.new": signed_in(
        by_method(get=step("submit_output", 200), post=step("submit_output", 422))
    ),
    "outputs.show": signed_in(lambda p, c: 404),
    "outputs.download": signed_in(lambda p, c: 404),
    "outputs.review": signed_in(step("review_output", 422)),
    "outputs.decide": signed_in(step("decide_output", 422)),
    "transparency.coordinator_dashboard": signed_in(
        lambda p, c: 200 if p.holds("coordinator") else 403
    ),
    **dict.fromkeys(
        [
            "api.serve_openapi",
            "api.me",
            "api.list_nations",
            "api.list_datasets",
            "api.get_nation_rules",
            "api.update_nation_profile",
            "api.put_nation_labels",
            "api.put_nation_rules",
            "api.preview_nation_rules",
            "api.list_requests",
            "api.create_request",
            "api.get_request",
            "api.update_request",
            "api.list_events",
            "api.list_conversations",
            "api.submit",
            "api.withdraw",
            "api.screen",
            "api.review",
            "api.decide",
            "api.sign",
            "api.revoke",
            "api.message",
            "api.report_obligation",
            "api.assess_obligation",
            "api.agreement_pdf",
            "api.agreement_terms",
            "api.close",
            "api.attest_destruction",
            "api.acknowledge_destruction",
            "api.attestation_pdf",
            "api.output_file",
            "api.obligation_file",
            "api.submit_output",
            "api.review_output",
            "api.decide_output",
            "api.renew",
            "api.amend",
            "api.get_rules",
            "api.list_rules_versions",
            "api.get_rules_version",
            "api.list_proposals",
            "api.create_proposal",
            "api.get_proposal",
            "api.vote_on_proposal",
            "api.withdraw_proposal",
            "api.list_deliveries",
            "api.get_delivery",
            "api.retry_delivery",
        ],
        API_ROUTE,
    ),
}

R = "/api/v1/requests/{ref}"
RULES_VERSIONS = ("1", "99")  # the version every test starts with, and one never made
P = "/api/v1/rules/proposals/{proposal_id}"
OPERATIONS: dict[str, Rule] = {
    "GET /api/v1/openapi.json": lambda p, c: 200,
    "GET /api/v1/me": signed_in(200, anonymous=401),
    "GET /api/v1/nations": signed_in(200, anonymous=401),
    "GET /api/v1/datasets": signed_in(200, anonymous=401),
    # A Nation's own rules: anyone signed in reads them; its representatives set them.
    "GET /api/v1/nations/{slug}/rules": signed_in(200, anonymous=401),
    # A Nation's governance profile: its representatives change it.
    "PATCH /api/v1/nations/{slug}/profile": signed_in(
        own_nation({"representative": 422}), anonymous=401
    ),
    # A Nation's labels on a dataset: its representatives (label_datasets); the probe
    # names a label that does not exist (or, for Blue Heron, a dataset not its own).
    "PUT /api/v1/nations/{slug}/labels": signed_in(
        own_nation({"representative": 422}), anonymous=401
    ),
    "PUT /api/v1/nations/{slug}/rules": signed_in(
        own_nation({"representative": 422}), anonymous=401
    ),
    "POST /api/v1/nations/{slug}/rules/preview": signed_in(
        own_nation({"representative": 422}), anonymous=401
    ),
    "GET /api/v1/requests": signed_in(200, anonymous=401),
    "POST /api/v1/requests": signed_in(create(201), anonymous=401),
    f"GET {R}": signed_in(read, anonymous=401),
    f"PATCH {R}": signed_in(step("edit", 422), anonymous=401),
    f"GET {R}/events": signed_in(read, anonymous=401),
    f"GET {R}/conversations": signed_in(read, anonymous=401),
    f"GET {R}/agreement.pdf": signed_in(agreement, anonymous=401),
    f"GET {R}/agreement/terms": signed_in(agreement, anonymous=401),
    f"GET {R}/outputs/{{output_id}}/file": signed_in(lambda p, c: 404, anonymous=401),
    f"GET {R}/obligations/{{obligation_id}}/file": signed_in(lambda p, c: 404, anonymous=401),
    "GET /api/v1/rules": signed_in(200, anonymous=401),
    "GET /api/v1/rules/versions": signed_in(200, anonymous=401),
    "GET /api/v1/rules/versions/{number}": signed_in(
        lambda p, c: 200 if c.path.endswith("/1") else 404, anonymous=401
    ),
    "GET /api/v1/rules/proposals": signed_in(200, anonymous=401),
    "POST /api/v1/rules/proposals": signed_in(proposes(422), anonymous=401),
    f"GET {P}": signed_in(200, anonymous=401),
    f"POST {P}/votes": signed_in(cedar_answers, anonymous=401),
    f"POST {P}/withdraw": signed_in(proposes(409), anonymous=401),
    # As on the pages: no obligation exists before access begins.
    f"POST {R}/actions/report_obligation": signed_in(lambda p, c: 404, anonymous=401),
    f"POST {R}/actions/assess_obligation": signed_in(lambda p, c: 404, anonymous=401),
    "GET /api/v1/deliveries": signed_in(
        lambda p, c: 200 if reads_deliveries(p) else 403, anonymous=401
    ),
    "GET /api/v1/deliveries/{delivery_id}": signed_in(cedar_delivery(200), anonymous=401),
    "POST /api/v1/deliveries/{delivery_id}/retry": signed_in(cedar_delivery(409), anonymous=401),
    **{
        f"POST {R}/actions/{action}": signed_in(step(action, 422), anonymous=401)
        for action in (
            "submit",
            "withdraw",
            "screen",
            "review",
            "decide",
            "sign",
            "revoke",
            "message",
            "close",
            "attest_destruction",
            "acknowledge_destruction",
            "submit_output",
            "review_output",
            "decide_output",
            "renew",
            "amend",
        )
    },
    # There is no attestation before access ends: none of the four states has one.
    f"GET {R}/attestation.pdf": signed_in(lambda p, c: 404, anonymous=401),
}

# Probe bodies: the shape each route takes, with a value its own check refuses.
PAGE_BODIES = {
    # back to the sign-in page: the probe's anonymous redirects must lead there
    "main.choose_language": {"language": "fr", "next": "/sign-in"},
    "auth.sign_in": {"email": "nobody@example.org", "password": "not the password"},
    "auth.tokens": {"name": ""},
    "auth.sign_in_code": {"code": "123456"},
    "auth.forgot_password": {"email": "nobody@example.org"},
    "auth.reset_password": {"new_password": "a new password!", "confirm": "a new password!"},
    "auth.change_password": {
        "current_password": "not the password",
        "new_password": "a new password!",
        "confirm": "a new password!",
    },
    "auth.disable_two_factor": {"password": "not the password"},
    "auth.two_factor": {"code": ""},
    "agreements.verify": {},
    "requests.new": {"title": "A probe's draft"},  # valid: a researcher's draft is made
    "requests.edit": {"title": "Probe", "storage_location": "Atlantis"},
    "requests.withdraw": {"reason": ""},
    "requests.open_amendment": {"reason": ""},
    "reviews.screen": {"outcome": "return", "comment": ""},
    "reviews.review": {"recommendation": "changes", "comment": ""},
    "reviews.decide": {"outcome": "refuse", "reason": ""},
    "reviews.revoke": {"reason": ""},
    "agreements.sign": {"password": "not the password"},
    "conversations.thread": {"body": ""},
    "registry.profile": {"review_quorum": "many", "min_approvals": "1"},
    "registry.designate": {"steward-email": ""},
    "registry.rules": {
        "intent": "save",
        "approve-team_at_most": "y",
        "approve-team_at_most-count": "0",
    },
    "registry.invitations": {"email": "", "role": "steward"},
    "auth.invitation": {"name": "Probe", "password": "short", "confirm": "short"},
    "admin.grant": {"role": "steward"},  # a Nation's role: not the admin's to grant
    "admin.revoke_role": {"role": "steward"},
    "admin.set_active": {"action": ""},
    "admin.invitations": {"email": "", "role": "coordinator"},
    "admin.nations": {"slug": "", "name": "", "framework": "OCAP"},
    "admin.datasets": {"slug": "", "title": ""},
    "admin.dataset": {"title": "", "custodian": "Probe"},
    "admin.jobs": {"kind": "job", "item": ""},
    "admin.dataset_endpoint": {"url": "ftp://custodian.example/", "intent": "save"},
    "datasets.attach": {"red-cedar-code": "no-such-label", "blue-heron-code": "no-such-label"},
    "proposals.new": {"title": "", "lines_add": "p2, *, review, ethics_approval_given"},
    "proposals.vote": {"nation": "red-cedar", "vote": ""},
    "outputs.new": {"title": "", "venue": "", "intent": "submit"},
    "outputs.review": {"recommendation": "refuse", "comment": ""},
    "outputs.decide": {"outcome": "refuse", "reason": ""},
    "lifecycle.close": {"reason": "x" * 5001},
    "lifecycle.attest": {"what": "", "password": "not the password"},
    "lifecycle.answer": {"outcome": "more_needed", "comment": ""},
}
NO_RULE = {"approve": [{"condition": "team_at_most", "params": {"count": 0}}]}
API_BODIES = {
    "PUT /api/v1/nations/{slug}/rules": NO_RULE,
    "PATCH /api/v1/nations/{slug}/profile": {"remind_review_days": 0},
    "PUT /api/v1/nations/{slug}/labels": {"dataset": "cedar-health", "labels": [{"code": "no"}]},
    "POST /api/v1/nations/{slug}/rules/preview": NO_RULE,
    "POST /api/v1/requests": {"title": "A probe's draft"},
    f"PATCH {R}": {"storage_location": "Atlantis"},
    f"POST {R}/actions/submit": {},  # the draft lacks its purpose
    f"POST {R}/actions/withdraw": {"reason": ""},
    f"POST {R}/actions/screen": {"outcome": "return", "comment": ""},
    f"POST {R}/actions/review": {"recommendation": "changes", "comment": ""},
    f"POST {R}/actions/decide": {"outcome": "refuse", "reason": ""},
    f"POST {R}/actions/sign": {"password": "not the password"},
    f"POST {R}/actions/revoke": {"reason": ""},
    f"POST {R}/actions/message": {"channel": "internal", "body": ""},
    f"POST {R}/actions/report_obligation": {"obligation": 1, "text": ""},
    f"POST {R}/actions/assess_obligation": {"obligation": 1, "outcome": "met"},
    f"POST {R}/actions/close": {"reason": "x" * 5001},
    f"POST {R}/actions/attest_destruction": {
        "what": "",
        "method": "",
        "done_on": "",
        "done_by": "",
        "password": "not it",
    },
    f"POST {R}/actions/acknowledge_destruction": {"outcome": "more_needed", "comment": ""},
    f"POST {R}/actions/submit_output": {"title": "", "venue": "", "content_base64": ""},
    f"POST {R}/actions/review_output": {"output": 0, "recommendation": "refuse"},
    f"POST {R}/actions/decide_output": {"output": 0, "outcome": "refuse", "reason": ""},
    f"POST {R}/actions/renew": {"reason": ""},
    f"POST {R}/actions/amend": {"reason": ""},
    "POST /api/v1/rules/proposals": {"title": "", "changes": {}},
    f"POST {P}/votes": {"nation": "red-cedar", "vote": ""},
}
NATION_BODIES = {
    "review",
    "decide",
    "revoke",
    "message",
    "acknowledge_destruction",
    "review_output",
    "decide_output",
}  # the API names the Nation in the body


def _expected(rule: Rule, person: Person, case: Case) -> Expect:
    found = rule(person, case)
    return found if isinstance(found, Expect) else Expect(found)


# --- walking them ----------------------------------------------------------------------


def page_rules(app) -> list:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def page_cases(world: World) -> Iterator[Case]:
    """Every page route and method, with each value of its path parameters."""
    adapter = world.app.url_map.bind("localhost")
    fillers: dict[str, list[tuple[str, dict]]] = {
        "ref": [(s, {"state": s}) for s in STATES],
        "nation_slug": [(n, {"nation": n}) for n in TOUCHED],
        "slug": [(n, {"nation": n}) for n in NATIONS],
        "user_id": [(str(world.ids[WHO["researcher"].email]), {})],
        "token_id": [("0", {})],  # replaced by a fresh token of the researcher's
        "token": [("not-an-invitation-token-0123456789abcdef", {})],
        "invitation_id": [(str(world.invitation_id), {"nation": "red-cedar"})],
        "dataset_slug": [("cedar-health", {})],
        "number": [(number, {}) for number in RULES_VERSIONS],
        "channel": [(c, {"channel": c}) for c in ("coordinators", "nation", "internal")],
        "proposal_id": [(str(world.proposal_id), {})],
        "obligation_id": [("1", {})],
        "delivery_id": [(world.delivery_id, {})],
        "output_id": [("0", {})],  # no output: these requests are not active
        "kind": [("renew", {}), ("amend", {})],  # a renewal or an amendment: the same rule
        "code": [("tk-attribution", {})],  # a label's code (none is attached)
    }
    for rule in page_rules(world.app):
        if ROUTES.get(rule.endpoint) == API_ROUTE:
            continue
        unfilled = set(rule.arguments) - set(fillers)
        assert not unfilled, f"{rule.rule}: no values for {unfilled}: add them to fillers"
        combos: list[tuple[dict, dict]] = [({}, {})]
        for argument in sorted(rule.arguments):
            combos = [
                ({**values, argument: value}, {**meta, **more})
                for values, meta in combos
                for value, more in fillers[argument]
            ]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for values, meta in combos:
                if "state" in meta:
                    values = {**values, "ref": world.refs[meta["state"]]}
                path = adapter.build(rule.endpoint, values, method=method)
                body = PAGE_BODIES.get(rule.endpoint, {}) if method != "GET" else None
                yield Case(rule.endpoint, method, path, body=body, **meta)


def api_operations(world: World) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in world.api.document["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "put", "delete"}
    ]


def api_cases(world: World) -> Iterator[Case]:
    for method, path in api_operations(world):
        key = f"{method} {path}"
        states = STATES if "{ref}" in path else (None,)
        known = {
            "ref",
            "number",
            "proposal_id",
            "slug",
            "delivery_id",
            "output_id",
            "obligation_id",
        }
        unfilled = set(re.findall(r"\{(\w+)\}", path)) - known
        assert not unfilled, f"{key}: no values for {unfilled}"
        numbered = (
            [path.replace("{number}", n) for n in RULES_VERSIONS] if "{number}" in path else [path]
        )
        for state, filled in ((state, filled) for state in states for filled in numbered):
            concrete = filled.replace("{ref}", world.refs[state]) if state else filled
            concrete = concrete.replace("{proposal_id}", str(world.proposal_id))
            concrete = concrete.replace("{delivery_id}", world.delivery_id)
            concrete = concrete.replace("{output_id}", "0").replace("{obligation_id}", "1")
            body = API_BODIES.get(key) if method != "GET" else None
            action = path.rsplit("/", 1)[-1]
            if "{slug}" in path:  # a Nation's own: each Nation in turn, named in the path
                for slug in NATIONS:
                    named = concrete.replace("{slug}", slug)[len(PREFIX) :]
                    yield Case(key, method, named, state, slug, body)
                continue
            nations = TOUCHED if action in NATION_BODIES else (None,)
            for nation in nations:
                full = {**body, "nation": nation} if nation else body
                yield Case(key, method, concrete[len(PREFIX) :], state, nation, full)


# The conditions each Nation attached are printed in the agreement (ARCHITECTURE.md,
# "Machine-readable terms"), which all its readers read: its machine-readable terms hold them too,
# and nothing else a Nation sent (its reasons) or kept (its deliberation).
AGREEMENT_TERMS = f"GET {R}/agreement/terms"
CONDITIONS = {s for n in TOUCHED for s in SENT[n] if "condition" in s}


def leaks(person: Person, world: World, text: str, also: frozenset = frozenset()) -> list[str]:
    """What ``text`` shows that ``person`` may not read (``also``: what this answer may
    show every reader it is served to)."""
    forbidden = sorted(ALL_SECRETS - may_read(person) - also)
    found = [f"{s!r}" for s in forbidden if s in text]
    unknown = [ref for state, ref in world.refs.items() if not person.sees(state)]
    return found + [f"request {ref} they may not know of" for ref in unknown if ref in text]


def text_of(response) -> str | None:
    """The answer as text; a PDF (compressed) only when it is a record's, whose HTML is
    what the PDF renderer is handed here (see ``world``)."""
    data = response.get_data()
    if response.mimetype == "application/pdf" and not data.startswith(b"<"):
        return None
    return data.decode()


def check(person: Person, world: World, case: Case, expected: Expect, response, changed) -> list:
    problems = []
    where = f"{case.method} {case.path}" + (f" ({case.state})" if case.state else "")
    if response.status_code != expected.status:
        problems.append(f"{where}: {response.status_code}, expected {expected.status}")
    location = response.headers.get("Location", "")
    if person.anonymous and expected.status == 302 and "/sign-in" not in location:
        problems.append(f"{where}: redirected to {location!r}, not to /sign-in")
    if changed and not expected.writes:
        problems.append(f"{where}: answered {response.status_code} but changed something")
    if response.status_code < 300 and (text := text_of(response)) is not None:
        also = frozenset(CONDITIONS if case.key == AGREEMENT_TERMS else ())
        problems += [f"{where}: shows {leak}" for leak in leaks(person, world, text, also)]
        if response.mimetype == "text/html":
            problems += [f"{where}: id {twice!r} given twice" for twice in given_twice(text)]
            problems += [f"{where}: group {g!r} has a label" for g in labels_on_lists(text)]
    return problems


def fresh_token_id(world: World) -> int:
    with world.app.app_context(), session_scope() as session:
        owner = session.exec(select(User).where(User.email == WHO["researcher"].email)).one()
        return auth.create_api_token(session, owner, "a probe's target")[1].id


def probe_page(world: World, who: str, case: Case):
    client, token = client_for(world, who)
    if case.key == "auth.sign_out":
        data = {**(case.body or {}), "csrf_token": token}
        response = client.open(case.path, method=case.method, data=data)
        # Signing out ended every session of theirs: a new one for the probes that follow
        # (its sign-in is this probe's write). One sign-in more, not two: a two-factor
        # code is good once, and a third sign-in within a minute waits for the clock.
        world.clients.pop(who, None)
        client_for(world, who)
        return response
    if case.key == "auth.end_other_sessions":
        # It revoked their API tokens too: the API's walk makes a new one before it starts.
        world.api.tokens.pop(WHO[who].email, None)
    data = None if case.body is None else {**case.body, "csrf_token": token}
    return client.open(case.path, method=case.method, data=data)


def probe_api(world: World, who: str, case: Case):
    """The API's answer, checked against its document (an undocumented status or a
    body off its schema is a problem too)."""
    email = WHO[who].email
    headers = {"Authorization": f"Bearer {world.api.token(email)}"} if email else {}
    response = world.api.client.open(
        PREFIX + case.path, method=case.method, json=case.body, headers=headers
    )
    try:
        world.api.check_documented(case.method, PREFIX + case.path, response)
    except AssertionError as error:
        response.undocumented = str(error).splitlines()[0]
    return response


def walk(world: World, who: str, cases, rules: dict, probe) -> list[str]:
    """Probe every case as ``who``: the problems found."""
    person, problems = WHO[who], []
    client_for(world, who)  # signed in (and any API token made) before the first snapshot
    if not person.anonymous:
        world.api.token(person.email)
    before = snapshot(world)
    for case in cases:
        expected = _expected(rules[case.key], person, case)
        if case.key == "auth.revoke_token":  # a live token of the researcher's to aim at
            case = replace(case, path=case.path.replace("/0/", f"/{fresh_token_id(world)}/"))
            before = snapshot(world)
        response = probe(world, who, case)
        after = snapshot(world)
        problems += check(person, world, case, expected, response, after != before)
        if undocumented := getattr(response, "undocumented", None):
            problems.append(f"{case.method} {case.path}: {undocumented}")
        before = after
    return problems


@pytest.mark.parametrize("who", list(WHO))
def test_every_page_for_every_person(world, who):
    problems = walk(world, who, page_cases(world), ROUTES, probe_page)
    assert not problems, f"{who}:\n" + "\n".join(problems)


@pytest.mark.parametrize("who", list(WHO))
def test_every_api_operation_for_every_person(world, who):
    problems = walk(world, who, api_cases(world), OPERATIONS, probe_api)
    person = WHO[who]
    if not person.anonymous:  # the list of requests names exactly those they may know of
        response = probe_api(world, who, Case("GET /api/v1/requests", "GET", "/requests?limit=100"))
        listed = {item["ref"] for item in response.get_json()["items"]}
        for state, ref in world.refs.items():
            if (ref in listed) != person.sees(state):
                problems.append(f"GET /requests: the {state} request listed: {ref in listed}")
    assert not problems, f"{who}:\n" + "\n".join(problems)


def test_every_route_is_classified(world):
    endpoints = {rule.endpoint for rule in page_rules(world.app)}
    assert sorted(endpoints - set(ROUTES)) == [], "new routes: say who may use them in ROUTES"
    assert sorted(set(ROUTES) - endpoints) == [], "ROUTES names routes that no longer exist"
    operations = {f"{method} {path}" for method, path in api_operations(world)}
    # Each API route of the URL map is an operation of the document (walked as such).
    for rule in page_rules(world.app):
        if ROUTES[rule.endpoint] == API_ROUTE:
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert f"{method} {path}" in operations, f"{rule.endpoint} is not documented"


def test_every_operation_is_classified(world):
    operations = {f"{method} {path}" for method, path in api_operations(world)}
    assert sorted(operations - set(OPERATIONS)) == [], "new operations: classify them"
    assert sorted(set(OPERATIONS) - operations) == [], "OPERATIONS names unknown operations"
    assert set(API_BODIES) <= operations
    assert set(PAGE_BODIES) <= set(ROUTES)
