"""The API and the pages act through the same commands: what a person may do shows in
`allowed_actions`, and someone who represents two Nations signs for each through the
API, naming the Nation, as the request page lets them."""

from helpers import PASSWORD


def allowed(api, who, ref) -> set[tuple[str, str | None]]:
    """The workflow steps offered (messages aside: see the test of threads below)."""
    body = api.get(who, f"/requests/{ref}").get_json()
    return {(a["action"], a["nation"]) for a in body["allowed_actions"] if a["action"] != "message"}


def threads(api, who, ref) -> set[tuple[str, str | None]]:
    body = api.get(who, f"/requests/{ref}").get_json()
    return {
        (a["channel"], a["nation"]) for a in body["allowed_actions"] if a["action"] == "message"
    }


def test_allowed_actions_follow_the_state_and_the_person(api, flow):
    ref = flow.draft()
    assert allowed(api, "researcher", ref) == {("edit", None), ("submit", None), ("withdraw", None)}
    flow.do("researcher", "submit", ref)
    assert allowed(api, "coordinator", ref) == {("screen", None)}
    # A Nation may refuse from submission on; approval waits for its stewards.
    assert allowed(api, "cedar_rep", ref) == {("decide", "red-cedar")}
    flow.do("coordinator", "screen", ref)
    assert allowed(api, "cedar_steward1", ref) == {("review", "red-cedar")}
    assert allowed(api, "heron_steward", ref) == {("review", "blue-heron")}
    assert allowed(api, "coordinator", ref) == set()
    decide = api.get("cedar_rep", f"/requests/{ref}").get_json()["allowed_actions"]
    decide = [a for a in decide if a["action"] != "message"]
    assert [a["action"] for a in decide] == ["decide"]
    assert "quorum_met" in {rule["rule"] for rule in decide[0]["blocked_by"]}
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    assert allowed(api, "cedar_steward1", ref) == set(), "one review per steward"


def test_a_representative_of_two_nations_signs_for_each_through_the_api(api, flow, make_user):
    make_user(
        "rep.both@example.org", ("representative", "red-cedar"), ("representative", "blue-heron")
    )
    ref = flow.approved()
    assert allowed(api, "rep.both@example.org", ref) >= {
        ("sign", "red-cedar"),
        ("sign", "blue-heron"),
    }
    unnamed = api.act("rep.both@example.org", ref, "sign", password=PASSWORD)
    assert unnamed.status_code == 422
    assert unnamed.get_json()["errors"][0]["field"] == "nation"
    for nation in ("red-cedar", "blue-heron"):
        signed = api.act("rep.both@example.org", ref, "sign", password=PASSWORD, nation=nation)
        assert signed.status_code == 200, signed.get_json()
    assert allowed(api, "rep.both@example.org", ref) & {("sign", "red-cedar")} == set()
    done = api.act("researcher", ref, "sign", password=PASSWORD).get_json()
    assert done["status"] == "active"
    parties = {s["party"] for s in done["agreement"]["signatures"]}
    assert len(parties) == 3


def test_message_is_offered_once_for_each_thread_the_caller_may_write_in(api, flow):
    ref = flow.draft()
    assert threads(api, "researcher", ref) == set(), "a draft has no conversations"
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    assert threads(api, "researcher", ref) == {
        ("coordinators", None),
        ("nation", "red-cedar"),
        ("nation", "blue-heron"),
    }
    assert threads(api, "coordinator", ref) == {("coordinators", None)}
    assert threads(api, "cedar_steward1", ref) == {
        ("nation", "red-cedar"),
        ("internal", "red-cedar"),
    }
    assert threads(api, "heron_rep", ref) == {("nation", "blue-heron"), ("internal", "blue-heron")}
    # What is offered can be done, and what is not is refused.
    posted = api.act(
        "cedar_steward1", ref, "message", channel="internal", nation="red-cedar", body="Seen it."
    )
    assert posted.status_code == 200, posted.get_json()
    refused = api.act(
        "coordinator", ref, "message", channel="internal", nation="red-cedar", body="Hello."
    )
    assert refused.status_code in (403, 404)
