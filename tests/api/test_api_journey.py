"""The whole journey of README.md through the API alone: two Nations, a return for
changes, the quorum, conditions, and revocation. Every answer is also checked against
the OpenAPI document (tests/apis.py)."""

from apis import problem
from flows import COMPLETE
from helpers import PASSWORD

PART_ONE = {key: COMPLETE[key] for key in ("title", "purpose", "datasets")}
PART_TWO = {key: value for key, value in COMPLETE.items() if key not in PART_ONE}


def test_the_whole_journey_through_the_api(api):
    me = api.get("researcher", "/me").get_json()
    assert me["email"] == "researcher@example.org"
    assert me["roles"] == [{"role": "researcher", "nation": None}]
    slugs = {
        d["slug"]: d["nations"] for d in api.get("researcher", "/datasets").get_json()["items"]
    }
    assert slugs["cedar-health"] == ["red-cedar"] and slugs["heron-schools"] == ["blue-heron"]

    # A draft in two steps, then submitted.
    created = api.post("researcher", "/requests", json=PART_ONE)
    assert created.status_code == 201
    draft = created.get_json()
    ref = draft["ref"]
    assert created.headers["Location"] == f"/api/v1/requests/{ref}"
    assert draft["status"] == "draft" and draft["revision"] == 0
    assert draft["nations"] == ["blue-heron", "red-cedar"]
    edited = api.patch("researcher", f"/requests/{ref}", json=PART_TWO).get_json()
    assert edited["retention_days"] == 365 and edited["title"] == COMPLETE["title"]
    submitted = api.act("researcher", ref, "submit").get_json()
    assert (submitted["status"], submitted["revision"]) == ("screening", 1)

    # Screening returns it for changes; the researcher revises and submits again.
    returned = api.act(
        "coordinator", ref, "screen", outcome="return", comment="Name the ethics board."
    ).get_json()
    assert returned["status"] == "changes_requested"
    api.patch("researcher", f"/requests/{ref}", json={"ethics_approval": "Board X #7 (fictional)"})
    assert api.act("researcher", ref, "submit").get_json()["revision"] == 2
    accepted = api.act("coordinator", ref, "screen", outcome="accept").get_json()
    assert accepted["status"] == "under_review"
    assert {(t["nation"], t["status"]) for t in accepted["tracks"]} == {
        ("red-cedar", "review"),
        ("blue-heron", "review"),
    }

    # One Red Cedar review of the two its quorum needs: approval is blocked by the rule.
    after_one = api.act(
        "cedar_steward1", ref, "review", nation="red-cedar", recommendation="approve"
    ).get_json()
    waiting = "Waiting for 1 more Red Cedar Nation (fictional) steward review."
    assert waiting in after_one["next_steps"]
    blocked = problem(
        api.act("cedar_rep", ref, "decide", nation="red-cedar", outcome="approve"), 409
    )
    assert "quorum_met" in {rule["rule"] for rule in blocked["blocked_by"]}

    api.act("cedar_steward2", ref, "review", nation="red-cedar", recommendation="approve")
    api.act(
        "heron_steward",
        ref,
        "review",
        nation="blue-heron",
        recommendation="approve",
        comment="Strengths-based framing is welcome.",
    )

    # Each Nation decides alone, with its own conditions.
    cedar = api.act(
        "cedar_rep",
        ref,
        "decide",
        nation="red-cedar",
        outcome="approve",
        conditions=["aggregate_only", "Results are shown to the Nation's council first."],
    ).get_json()
    assert cedar["status"] == "under_review", "one Nation's approval never carries another's"
    both = api.act(
        "heron_rep",
        ref,
        "decide",
        nation="blue-heron",
        outcome="approve",
        conditions=["community_output_review"],
    ).get_json()
    assert both["status"] == "awaiting_signatures"
    tracks = {t["nation"]: t for t in both["tracks"]}
    assert tracks["red-cedar"]["status"] == tracks["blue-heron"]["status"] == "approved"
    # Each Nation's deliberations are its own: Blue Heron reads Red Cedar's status only.
    assert tracks["red-cedar"]["decision"] is None and tracks["red-cedar"]["reviews"] is None
    tracks = {
        t["nation"]: t for t in api.get("researcher", f"/requests/{ref}").get_json()["tracks"]
    }
    assert tracks["blue-heron"]["reviews"] is None, "the researcher reads no steward's review"
    assert tracks["red-cedar"]["decision"]["representative"] is None
    assert [c["code"] for c in tracks["red-cedar"]["decision"]["conditions"]] == [
        "aggregate_only",
        "custom",
    ]
    assert tracks["red-cedar"]["reviews_counted"] == 2 == tracks["red-cedar"]["quorum"]
    heron = api.get("heron_rep", f"/requests/{ref}").get_json()["tracks"]
    assert heron[0]["nation"] == "blue-heron"
    assert heron[0]["reviews"][0]["comment"] == "Strengths-based framing is welcome."

    # The agreement: readable by the parties, signed by each of them; the last makes it active.
    assert problem(api.get("admin", f"/requests/{ref}/agreement.pdf"), 404)
    pdf = api.get("heron_steward", f"/requests/{ref}/agreement.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    refused = api.act("cedar_rep", ref, "sign", password="not my password")
    assert problem(refused, 422)["errors"][0]["field"] == "password"
    for party in ("researcher", "cedar_rep", "heron_rep"):
        signed = api.act(party, ref, "sign", password=PASSWORD).get_json()
    assert signed["status"] == "active"
    agreement = signed["agreement"]
    assert agreement["status"] == "active" and len(agreement["signatures"]) == 3
    assert problem(api.act("researcher", ref, "sign", password=PASSWORD), 409)
    final = api.get("researcher", f"/requests/{ref}/agreement.pdf").data
    assert final.count(b"/Type /Sig") + final.count(b"/Type/Sig") >= 3

    # A Nation revokes, at once.
    revoked = api.act(
        "heron_rep", ref, "revoke", nation="blue-heron", reason="Terms were breached."
    ).get_json()
    assert revoked["status"] == "revoked"
    assert {t["nation"]: t["status"] for t in revoked["tracks"]}["blue-heron"] == "revoked"

    # The record, oldest first, read page by page.
    actions, cursor = [], None
    while True:
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = api.get("researcher", f"/requests/{ref}/events", query_string=query).get_json()
        actions += [event["action"] for event in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert actions == [
        "request.created",
        "request.edited",
        "request.submitted",
        "request.returned",
        "request.edited",
        "request.submitted",
        "request.screened",
        # No steward's review: that one happened at all is its Nation's (invariant 9).
        "decision.approved",
        "decision.approved",
        "agreement.downloaded",
        "agreement.signed",
        "agreement.signed",
        "agreement.signed",
        "agreement.downloaded",
        "request.revoked",
    ]

    # Who sees it now: the coordinator and both Nations' people, not another researcher.
    for who in ("coordinator", "cedar_steward3", "heron_rep"):
        listed = api.get(who, "/requests", query_string={"status": "revoked"}).get_json()
        assert [item["ref"] for item in listed["items"]] == [ref]
    assert api.get("other_researcher", "/requests").get_json()["items"] == []
    problem(api.get("other_researcher", f"/requests/{ref}"), 404)
