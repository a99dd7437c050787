"""Three findings of a security probe of commit 64a9435, each reproduced here so that it
fails on that code and passes once the invariants it breaks hold.

1. Deliberations leak (invariant 9): on a request touching two Nations, the researcher,
   the coordinator and the other Nation's steward and representative read each
   steward's name, e-mail, recommendation, criteria notes and comment (a conflict of
   interest's reason included) and each Nation's decision reasons, in the API's
   request and events, on the request page and its timeline, and in mail.
2. No separation of duties (invariant 10): someone on the requesting side (the
   researcher, or a team member by e-mail) who also holds a Nation's roles, or is
   designated its steward, reviews, approves or refuses the request; and a
   representative's own review makes the quorum of their own decision.
3. A dropped Nation still counts (invariant 11): after a revision drops a Nation's data,
   its earlier approval still stands, it stays a party to the agreement and is asked
   to sign; its track never ends.

Only surfaces the old code also had are used (the API, the pages, ``flow``, the
outbox), so the same file runs on both.
"""

import io
import json

from pypdf import PdfReader
from sqlmodel import select

from portal.db import session_scope
from portal.notify.models import OutboxMessage
from portal.registry.service import get_nation
from portal.workflow.profiles import designate_steward

from apis import Api
from flows import PEOPLE
from helpers import PASSWORD, sign_in

CEDAR = "Red Cedar Nation (fictional)"
HERON = "Blue Heron Métis (fictional)"


# What each side's deliberation holds: read only by that Nation's own people.
CEDAR_DELIBERATION = [
    "s1.cedar",  # stewards' names, and their e-mail addresses
    "s2.cedar",
    "s3.cedar",
    "Cedar-s1 comment: benefit is clear",
    "Cedar-s1 criterion: community benefit shown",
    "my sister works on this team",  # a conflict of interest's reason
    "Cedar-s3 comment: harms are addressed",
    "Cedar-s3 criterion: harms are addressed",
]
HERON_DELIBERATION = [
    "s.heron",  # the steward's name, and e-mail address
    "Heron-s comment: framing is respectful",
    "Heron-s criterion: framing is respectful",
]
# What each Nation sends the researcher: read by the researcher and that Nation only.
CEDAR_SENT = ["Cedar decision reason: benefit to the Nation", "Cedar condition: report to council"]
HERON_SENT = [
    "Heron changes: name the consent process",
    "Heron decision reason: consent process named",
    "Heron condition: acknowledge the knowledge keepers",
]


def review(api: Api, who: str, ref: str, nation: str, **body) -> dict:
    response = api.act(who, ref, "review", nation=nation, **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def decide(api: Api, who: str, ref: str, nation: str, **body) -> dict:
    response = api.act(who, ref, "decide", nation=nation, **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def all_events(api: Api, who: str, ref: str) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.get(who, f"/requests/{ref}/events", query_string=query).get_json()
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items


def assert_not_own_request(refusals: dict) -> None:
    """Each refusal names the rule that says "not you": not_own_request (invariant 10)."""
    for name, response in refusals.items():
        rules = {rule["rule"] for rule in response.get_json().get("blocked_by") or []}
        assert "not_own_request" in rules, f"{name}: {response.get_json()}"


def mail_to(app, email: str) -> list[OutboxMessage]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.recipient == email).order_by(OutboxMessage.id)
        ).all()
        session.expunge_all()
        return list(rows)


def what_each_surface_shows(app, api: Api, who: str, ref: str) -> dict[str, str]:
    """Everything ``who`` reads of the request, surface by surface."""
    client = app.test_client()
    sign_in(client, PEOPLE[who][0])
    page = client.get(f"/requests/{ref}")
    timeline = client.get(f"/requests/{ref}/timeline")
    assert page.status_code == timeline.status_code == 200
    return {
        "API request": api.get(who, f"/requests/{ref}").get_data(as_text=True),
        "API events": json.dumps(all_events(api, who, ref), ensure_ascii=False),
        "request page": page.get_data(as_text=True),
        "timeline page": timeline.get_data(as_text=True),
        "mail": "\n".join(f"{m.subject}\n{m.body}" for m in mail_to(app, PEOPLE[who][0])),
    }


def leaks(surfaces: dict[str, str], secrets: list[str]) -> dict[str, list[str]]:
    """Which of ``secrets`` each surface shows."""
    found = {name: [s for s in secrets if s in text] for name, text in surfaces.items()}
    return {name: shown for name, shown in found.items() if shown}


def test_each_nations_deliberations_reach_its_own_people_only(app, flow):
    """Finding 1: stewards' names, recommendations, criteria, comments, conflicts and a
    Nation's decision reasons must not reach the researcher, the coordinator or the
    other Nation; the Nation's own people read them; the researcher reads what each
    Nation sends (requests for changes, decision, reasons, conditions)."""
    api = Api(app)
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    review(api, "heron_steward", ref, "blue-heron", recommendation="changes", comment=HERON_SENT[0])
    flow.edit("researcher", ref, methods="Descriptive statistics; consent by school boards.")
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)

    review(
        api,
        "cedar_steward1",
        ref,
        "red-cedar",
        recommendation="approve",
        comment=CEDAR_DELIBERATION[3],
        criteria={"community_benefit": CEDAR_DELIBERATION[4]},
    )
    review(
        api,
        "cedar_steward2",
        ref,
        "red-cedar",
        conflict_of_interest=True,
        comment=CEDAR_DELIBERATION[5],
    )
    review(
        api,
        "cedar_steward3",
        ref,
        "red-cedar",
        recommendation="approve",
        comment=CEDAR_DELIBERATION[6],
        criteria={"harm": CEDAR_DELIBERATION[7]},
    )
    review(
        api,
        "heron_steward",
        ref,
        "blue-heron",
        recommendation="approve",
        comment=HERON_DELIBERATION[1],
        criteria={"framing": HERON_DELIBERATION[2]},
    )
    decide(
        api,
        "cedar_rep",
        ref,
        "red-cedar",
        outcome="approve",
        reason=CEDAR_SENT[0],
        conditions=[CEDAR_SENT[1]],
    )
    decided = decide(
        api,
        "heron_rep",
        ref,
        "blue-heron",
        outcome="approve",
        reason=HERON_SENT[1],
        conditions=[HERON_SENT[2]],
    )
    assert decided["status"] == "awaiting_signatures"

    deliberations = CEDAR_DELIBERATION + HERON_DELIBERATION
    hidden = {
        "researcher": deliberations,
        "coordinator": deliberations + CEDAR_SENT + HERON_SENT,
        "heron_steward": CEDAR_DELIBERATION + CEDAR_SENT,
        "heron_rep": CEDAR_DELIBERATION + CEDAR_SENT,
        "cedar_steward1": HERON_DELIBERATION + HERON_SENT,
        "cedar_rep": HERON_DELIBERATION + HERON_SENT,
    }
    shown = {
        "researcher": CEDAR_SENT + HERON_SENT,
        "heron_steward": HERON_DELIBERATION + HERON_SENT,
        "heron_rep": HERON_DELIBERATION + HERON_SENT,
        "cedar_steward1": CEDAR_DELIBERATION + CEDAR_SENT,
        "cedar_rep": CEDAR_DELIBERATION + CEDAR_SENT,
    }
    found = {who: what_each_surface_shows(app, api, who, ref) for who in hidden}
    leaked = {who: leaks(found[who], secrets) for who, secrets in hidden.items()}
    leaked = {who: where for who, where in leaked.items() if where}
    report = "\n".join(f"{who} reads, in {where}" for who, where in leaked.items())
    assert leaked == {}, f"another's deliberation leaks:\n{report}"

    # Nothing is hidden from those it belongs to (the API carries all of it).
    for who, expected in shown.items():
        missing = [
            s for s in expected if s not in found[who]["API request"] + found[who]["API events"]
        ]
        assert missing == [], f"{who} should read {missing}"
    page = found["researcher"]["request page"]
    assert all(s in page for s in CEDAR_SENT + HERON_SENT), "the researcher's page shows them"


def test_a_researcher_holding_a_nations_roles_cannot_judge_their_own_request(app, flow, make_user):
    """Finding 2a: the researcher who is also a steward and the representative of the
    Nation whose data they ask for cannot review, approve or refuse their request."""
    triple = "triple@example.org"
    make_user(triple, "researcher", ("steward", "blue-heron"), ("representative", "blue-heron"))
    api = Api(app)
    ref = flow.draft(triple, datasets=["heron-schools"])
    flow.do(triple, "submit", ref)
    flow.do("coordinator", "screen", ref)

    attempts = {
        "review": api.act(triple, ref, "review", nation="blue-heron", recommendation="approve"),
        "approve": api.act(triple, ref, "decide", nation="blue-heron", outcome="approve"),
        "refuse": api.act(
            triple, ref, "decide", nation="blue-heron", outcome="refuse", reason="Mine to refuse."
        ),
    }
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert flow.status(ref) == "under_review"
    seen = api.get(triple, f"/requests/{ref}").get_json()
    (track,) = seen["tracks"]
    assert (track["status"], track["reviews_counted"]) == ("review", 0)
    offered = {a["action"] for a in seen.get("allowed_actions", [])}
    assert not offered & {"review", "decide"}, "their own request is not offered to them"
    assert_not_own_request(attempts)


def test_a_researcher_or_team_member_designated_steward_cannot_review_their_request(
    app, flow, make_user
):
    """Finding 2b: a representative designates the requesting researcher (and a team
    member, known by the e-mail in the request's team) as stewards; neither may review
    the request, and nothing of theirs makes the Nation's quorum."""
    robin = "robin@example.org"  # in the request's team (flows.COMPLETE)
    make_user(robin)
    api = Api(app)
    ref = flow.draft(datasets=["heron-schools"])
    with app.app_context(), session_scope() as session:
        heron, rep = get_nation(session, "blue-heron"), flow.user(session, "heron_rep")
        designate_steward(session, rep, heron, PEOPLE["researcher"][0])
        designate_steward(session, rep, heron, robin)
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)

    attempts = {
        who: api.act(who, ref, "review", nation="blue-heron", recommendation="approve")
        for who in ("researcher", robin)
    }
    assert {who: r.status_code for who, r in attempts.items()} == dict.fromkeys(attempts, 403)
    (track,) = api.get("heron_rep", f"/requests/{ref}").get_json()["tracks"]
    assert (track["status"], track["reviews_counted"]) == ("review", 0)
    blocked = api.act("heron_rep", ref, "decide", nation="blue-heron", outcome="approve")
    assert blocked.status_code == 409
    assert "quorum_met" in {rule["rule"] for rule in blocked.get_json()["blocked_by"]}

    # A steward of the Nation who is no one on the requesting side still makes it.
    review(api, "heron_steward", ref, "blue-heron", recommendation="approve")
    assert decide(api, "heron_rep", ref, "blue-heron", outcome="approve")["status"] == (
        "awaiting_signatures"
    )
    assert_not_own_request(attempts)


def test_a_representatives_own_review_never_makes_the_quorum_of_their_decision(app, flow):
    """Finding 2c: a representative who designated themself steward reviews; that review
    does not count toward the quorum their own approval needs."""
    api = Api(app)
    ref = flow.draft(datasets=["heron-schools"])  # Blue Heron's quorum is 1
    with app.app_context(), session_scope() as session:
        heron, rep = get_nation(session, "blue-heron"), flow.user(session, "heron_rep")
        designate_steward(session, rep, heron, PEOPLE["heron_rep"][0])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)

    api.act("heron_rep", ref, "review", nation="blue-heron", recommendation="approve")
    (track,) = api.get("heron_rep", f"/requests/{ref}").get_json()["tracks"]
    assert (track["status"], track["reviews_counted"]) == ("review", 0), "own review counted"
    blocked = api.act("heron_rep", ref, "decide", nation="blue-heron", outcome="approve")
    assert blocked.status_code == 409, "approved on the strength of their own review"
    assert "quorum_met" in {rule["rule"] for rule in blocked.get_json()["blocked_by"]}

    review(api, "heron_steward", ref, "blue-heron", recommendation="approve")
    assert decide(api, "heron_rep", ref, "blue-heron", outcome="approve")["status"] == (
        "awaiting_signatures"
    )


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_a_nation_whose_data_a_revision_drops_leaves_the_request(app, flow):
    """Finding 3: Red Cedar approves revision 1; Blue Heron asks for changes; the
    researcher drops Red Cedar's dataset. Red Cedar's track ends, and its old approval
    makes it no party: the agreement neither names it nor carries its conditions, its
    representative is not asked to sign, and the other two signatures make it active.
    The request stays in Red Cedar's record; its people hear that their part ended."""
    api = Api(app)
    cedar_condition = "Cedar-only condition: results go to the Elders first"
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    decide(api, "cedar_rep", ref, "red-cedar", outcome="approve", conditions=[cedar_condition])
    review(
        api, "heron_steward", ref, "blue-heron", recommendation="changes", comment="Use ours only."
    )
    flow.edit("researcher", ref, datasets=["heron-schools"])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    review(api, "heron_steward", ref, "blue-heron", recommendation="approve")
    decide(api, "heron_rep", ref, "blue-heron", outcome="approve")

    seen = api.get("researcher", f"/requests/{ref}").get_json()
    tracks = {t["nation"]: t["status"] for t in seen["tracks"]}
    assert tracks == {"red-cedar": "ended", "blue-heron": "approved"}
    assert seen["status"] == "awaiting_signatures"
    events = [e["action"] for e in all_events(api, "cedar_rep", ref)]
    assert "track.ended" in events

    pdf = api.get("researcher", f"/requests/{ref}/agreement.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert HERON in text or "Blue Heron" in text
    assert "Red Cedar" not in text and cedar_condition not in text, "the agreement names it"

    asked = [m.subject for m in mail_to(app, PEOPLE["cedar_rep"][0])]
    assert not [s for s in asked if "signature" in s], "Red Cedar is asked to sign"
    cedar_view = api.get("cedar_rep", f"/requests/{ref}").get_json()
    assert "sign" not in {a["action"] for a in cedar_view.get("allowed_actions", [])}
    assert api.act("cedar_rep", ref, "sign", password=PASSWORD).status_code in (403, 409)

    assert api.act("researcher", ref, "sign", password=PASSWORD).status_code == 200
    signed = api.act("heron_rep", ref, "sign", password=PASSWORD)
    assert signed.status_code == 200 and signed.get_json()["status"] == "active"

    # No party, no agreement: Red Cedar's people keep sight of the request, not the PDF.
    assert api.get("cedar_rep", f"/requests/{ref}/agreement.pdf").status_code == 403
    assert api.get("heron_rep", f"/requests/{ref}/agreement.pdf").status_code == 200
    client = app.test_client()
    sign_in(client, PEOPLE["cedar_steward1"][0])
    assert client.get(f"/requests/{ref}/agreement.pdf").status_code == 403
    page = client.get(f"/requests/{ref}").get_data(as_text=True)
    assert 'id="agreement-h"' not in page and "agreement.pdf" not in page

    client = app.test_client()
    sign_in(client, PEOPLE["cedar_rep"][0])
    record = client.get("/nations/red-cedar/record")
    assert record.status_code == 200 and ref in record.get_data(as_text=True)

    ended = f"{ref} no longer uses {CEDAR}'s data"
    for who in ("cedar_rep", "cedar_steward1", "cedar_steward2", "cedar_steward3"):
        subjects = [m.subject for m in mail_to(app, PEOPLE[who][0])]
        assert ended in subjects, f"{who} was not told: {subjects}"
