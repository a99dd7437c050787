"""Who the member Nations are (portal/policy/membership.py): an administrator registers
Nations but does not make members. Once member Nations have representatives, a Nation
joins them, and answers changes to the portal-wide rules, only when they approve its
admission; until then its representatives' answers are refused, and it counts in no
proposal's electorate. Its own data is its own from the start."""

import pytest
from sqlmodel import select

from portal import migrate
from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Refused, ValidationError
from portal.notify.models import OutboxMessage
from portal.policy.models import Proposal
from portal.policy.proposing import electorate, members
from portal.registry.models import Nation
from portal.workflow.proposals import VoteOnProposal

from apis import Api
from governing import NO_WITHDRAW, add_members, as_person, propose, rep, vote
from helpers import csrf_token, sign_in

ADMIN = "admin@example.org"
PUPPETS = [("puppet-one", "Puppet One Nation (fictional)"),
           ("puppet-two", "Puppet Two Nation (fictional)"),
           ("puppet-three", "Puppet Three Nation (fictional)")]  # fmt: skip


@pytest.fixture
def members_with_reps(app, nations, make_user):
    make_user(ADMIN, "admin")
    return add_members(app, make_user, 3)


def register(admin, slug: str, name: str):
    page = admin.get("/admin/nations").text
    form = {"slug": slug, "name": name, "framework": "OCAP", "csrf_token": csrf_token(page)}
    return admin.post("/admin/nations", data=form)


@pytest.fixture
def admin(app, members_with_reps):
    client = app.test_client()
    assert sign_in(client, ADMIN).status_code == 302
    return client


def nation(app, slug: str) -> Nation:
    with app.app_context(), session_scope() as session:
        found = session.exec(select(Nation).where(Nation.slug == slug)).one()
        session.expunge(found)
        return found


def admission_of(app, slug: str) -> Proposal:
    with app.app_context(), session_scope() as session:
        found = [p for p in session.exec(select(Proposal)) if p.changes.get("admit") == [slug]]
        assert len(found) == 1, found
        session.expunge(found[0])
        return found[0]


def slugs(nations: list[Nation]) -> list[str]:
    return sorted(n.slug for n in nations)


def test_the_founding_nations_are_members_at_once(app, members_with_reps):
    """Registered while no member had a representative to answer: nobody could admit them."""
    with app.app_context(), session_scope() as session:
        assert slugs(members(session)) == sorted(members_with_reps)
        assert slugs(electorate(session)) == sorted(members_with_reps)
        assert session.exec(select(Proposal)).first() is None


def test_a_nation_registered_later_waits_for_the_members_who_are_asked(app, admin):
    made = register(admin, "amber-lake", "Amber Lake Nation (fictional)")
    assert made.status_code == 302
    shown = admin.get(made.headers["Location"]).text
    assert "It becomes a member Nation when the member Nations approve its admission" in shown
    assert "Not yet: its admission is put to the member Nations" in shown
    assert nation(app, "amber-lake").admitted_at is None
    admission = admission_of(app, "amber-lake")
    assert admission.title == "Admit Amber Lake Nation (fictional) as a member Nation"
    assert admission.status.value == "open"
    with app.app_context(), session_scope() as session:
        assert "amber-lake" not in slugs(members(session))
        assert sorted(admission.electorate) == sorted(
            session.exec(select(Nation.id).where(Nation.slug.in_(["red-cedar", "blue-heron",
                                                                  "green-kestrel"])))
        )  # fmt: skip
        told = sorted(
            m.recipient
            for m in session.exec(select(OutboxMessage))
            if "asked to admit a Nation" in m.subject
        )
    assert told == sorted(rep(slug) for slug in ("red-cedar", "blue-heron", "green-kestrel"))


def test_puppet_nations_cannot_outvote_the_members(app, admin, make_user):
    """The probe's attack: an administrator registers Nations and invites addresses they
    control as their representatives, then votes a rule change through with them."""
    for slug, name in PUPPETS:
        assert register(admin, slug, name).status_code == 302
        make_user(f"second.{slug}@example.org", ("representative", slug))
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    with app.app_context(), session_scope() as session:
        proposal = session.get(Proposal, proposal_id)
        assert slugs(n for n in members(session) if n.id in proposal.electorate) == [
            "blue-heron", "green-kestrel", "red-cedar",
        ]  # fmt: skip
        assert len(proposal.electorate) == 3
    for slug, _name in PUPPETS:
        with pytest.raises(Refused) as refused:
            as_person(
                app, f"second.{slug}@example.org", VoteOnProposal(proposal_id, slug, "approve")
            )
        assert refused.value.message == (
            f"{nation(app, slug).name} is not a member Nation yet: the member Nations answer "
            "changes to the portal-wide rules, and decide on its admission."
        )
    # Nor does one propose a change for its Nation.
    with pytest.raises(Refused, match=r"Puppet One Nation .* is not a member Nation yet"):
        propose(app, "second.puppet-one@example.org", NO_WITHDRAW, nation="puppet-one")
    with app.app_context(), session_scope() as session:
        assert session.get(Proposal, proposal_id).status.value == "open"
        voted = session.exec(select(AuditEvent).where(AuditEvent.action == "proposal.voted"))
        assert list(voted) == [], "a refused answer writes nothing"


def test_admitted_by_the_members_it_answers_the_proposals_made_from_then_on(app, admin, make_user):
    register(admin, "amber-lake", "Amber Lake Nation (fictional)")
    make_user(rep("amber-lake"), ("representative", "amber-lake"))
    before = propose(app, ADMIN, NO_WITHDRAW)
    admission = admission_of(app, "amber-lake").id
    assert vote(app, admission, "red-cedar") == "open", "1 of 3 is no majority"
    assert nation(app, "amber-lake").admitted_at is None
    assert vote(app, admission, "blue-heron") == "applied"
    assert nation(app, "amber-lake").admitted_at is not None
    with app.app_context(), session_scope() as session:
        proposal = session.get(Proposal, admission)
        assert proposal.applied_version is None, "an admission installs no rules"
        admitted = session.exec(select(AuditEvent).where(AuditEvent.action == "nation.admitted"))
        assert [e.details["admitted"] for e in admitted] == [["amber-lake"]]
        assert "amber-lake" in slugs(members(session))
    # The proposal made before it keeps the electorate it was made with ...
    with pytest.raises(Refused, match="had no representative when this change was proposed"):
        vote(app, before, "amber-lake")
    # ... and the next one counts it: 3 of 4 must approve now.
    after = propose(app, ADMIN, NO_WITHDRAW)
    assert vote(app, after, "amber-lake") == "open"
    assert vote(app, after, "red-cedar") == "open"
    assert vote(app, after, "blue-heron") == "applied"


def test_an_admission_refused_leaves_it_outside_and_tells_it(app, admin, make_user):
    register(admin, "amber-lake", "Amber Lake Nation (fictional)")
    make_user(rep("amber-lake"), ("representative", "amber-lake"))
    admission = admission_of(app, "amber-lake").id
    assert vote(app, admission, "red-cedar", "object") == "rejected"
    assert nation(app, "amber-lake").admitted_at is None
    with app.app_context(), session_scope() as session:
        told = [
            m.recipient
            for m in session.exec(select(OutboxMessage))
            if m.subject.startswith("The admission was not approved")
        ]
        events = [
            e.action
            for e in session.exec(select(AuditEvent))
            if "amber-lake" in str(e.details) or e.details.get("proposal") == admission
        ]
    assert rep("amber-lake") in told and rep("red-cedar") in told
    assert "nation.admitted" not in events and "proposal.rejected" in events
    # Its data stays its own: its representative still sets its governance profile.
    client = app.test_client()
    sign_in(client, rep("amber-lake"))
    assert client.get("/nations/amber-lake/profile").status_code == 200


def test_the_proposal_page_says_what_an_admission_is(app, admin):
    register(admin, "amber-lake", "Amber Lake Nation (fictional)")
    admission = admission_of(app, "amber-lake").id
    client = app.test_client()
    sign_in(client, rep("red-cedar"))
    page = client.get(f"/rules/proposals/{admission}").text
    assert "Admits as a member Nation: Amber Lake Nation (fictional)." in page
    assert "only the member Nations admit it" in page
    assert "In force as rules version" not in page
    vote(app, admission, "red-cedar")
    vote(app, admission, "blue-heron")
    page = client.get(f"/rules/proposals/{admission}").text
    assert "Admitted as a member Nation: Amber Lake Nation (fictional)." in page
    assert "In force as rules version" not in page


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"admit": ["red-cedar"]}, "Red Cedar Nation (fictional) is a member Nation already."),
        ({"admit": ["no-such"]}, "'no-such' is no registered Nation."),
        ({"admit": []}, "An admission names the Nations to admit, and changes nothing else."),
        ({"admit": ["amber-lake"], **NO_WITHDRAW},
         "An admission names the Nations to admit, and changes nothing else."),
        ({"admit": [3]}, "Name each Nation to admit by its slug."),
        ({"admit": ["amber-lake"]}, "The members are deciding on Amber Lake Nation (fictional)'s "
         "admission already."),
    ],
)  # fmt: skip
def test_an_admission_that_is_none_is_refused_and_nothing_written(app, admin, changes, problem):
    register(admin, "amber-lake", "Amber Lake Nation (fictional)")
    with app.app_context(), session_scope() as session:
        before = len(list(session.exec(select(Proposal))))
    with pytest.raises(ValidationError) as refused:
        propose(app, ADMIN, changes)
    assert refused.value.errors == {"changes": problem}
    with app.app_context(), session_scope() as session:
        assert len(list(session.exec(select(Proposal)))) == before


def test_a_refused_admission_can_be_put_again_through_the_api(app, admin):
    register(admin, "amber-lake", "Amber Lake Nation (fictional)")
    vote(app, admission_of(app, "amber-lake").id, "red-cedar", "object")
    api = Api(app)
    body = {"title": "Admit Amber Lake again", "changes": {"admit": ["amber-lake"]}}
    answer = api.post(ADMIN, "/rules/proposals", json=body)
    assert answer.status_code == 201, answer.json
    assert answer.json["changes"] == {"admit": ["amber-lake"]}
    assert len(answer.json["answers"]) == 3
    listed = {n["slug"]: n["member_since"] for n in api.get(ADMIN, "/nations").json["items"]}
    assert listed["amber-lake"] is None and listed["red-cedar"] is not None
    again = api.post(ADMIN, "/rules/proposals", json=body)
    assert again.status_code == 422
    assert "deciding on Amber Lake Nation (fictional)'s admission already" in str(again.json)


def test_the_command_line_registers_through_the_same_rule(app, members_with_reps, runner):
    result = runner.invoke(
        args=["nations", "create", "amber-lake", "--name", "Amber Lake (fictional)",
              "--framework", "OCAP"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "It becomes a member Nation when the member Nations approve its admission." in (
        result.output
    )
    assert nation(app, "amber-lake").admitted_at is None
    assert admission_of(app, "amber-lake").proposer_id is None, "the operator's"


def test_migration_0030_keeps_every_nation_registered_before_it_a_member(app, admin, runner):
    """Before it, every registered Nation was a member: the upgrade admits each at its
    registration; the downgrade drops the column."""
    register(admin, "amber-lake", "Amber Lake Nation (fictional)")
    app.extensions["portal.db"].dispose()
    migrate.downgrade(app.config["DATABASE_URL"], "0029")
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    with app.app_context(), session_scope() as session:
        nations = list(session.exec(select(Nation)))
        assert nations and all(n.admitted_at == n.created_at for n in nations)
