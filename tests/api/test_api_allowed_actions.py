"""The API and the pages act through the same commands: what a person may do shows in
`allowed_actions`, and someone who represents two Nations signs for each through the
API, naming the Nation, as the request page lets them."""

from helpers import PASSWORD


def allowed(api, who, ref) -> set[tuple[str, str | None]]:
    body = api.get(who, f"/requests/{ref}").get_json()
    return {(a["action"], a["nation"]) for a in body["allowed_actions"]}


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
