"""Waiving "outputs reviewed before publication" is the Nation letting its review of the
request's outputs go (found in a probe: once Red Cedar's representative waived it, each
output still waited for Red Cedar's review, as its profile asks it of every request, so
the waiver offered was an empty one). The Nation's last word on this request stands: an
output waiting for it is released, and those submitted later do not wait for it; the
other Nation's review stands."""

from portal.workflow import commands as c

from helpers import sign_in

TABLE = b"region,count\nNorth,120\nSouth,240\n"


def test_waiving_the_review_of_outputs_releases_them_from_the_nations_review(app, owed, api):
    ref = owed.active()
    flow = owed.flow
    flow.perform("researcher", ref, c.SubmitOutput("Table 1", "A journal", "t.csv", TABLE))
    (first,) = api.get("researcher", f"/requests/{ref}").get_json()["outputs"]
    waiting = {part["nation"]: part["status"] for part in first["nations"]}
    assert waiting == {"red-cedar": "review", "blue-heron": "review"}
    owed.assess("cedar_rep", ref, "community_output_review", "waived", comment="Let it go.")
    assert owed.obligations(ref)["community_output_review"].state == "waived"
    flow.perform("researcher", ref, c.SubmitOutput("Table 2", "A journal", "t2.csv", TABLE))
    outputs = api.get("researcher", f"/requests/{ref}").get_json()["outputs"]
    parts = {item["title"]: {p["nation"]: p["status"] for p in item["nations"]} for item in outputs}
    assert parts["Table 1"] == {"red-cedar": "waived", "blue-heron": "review"}
    assert parts["Table 2"] == {"blue-heron": "review"}, "no longer Red Cedar's to review"
    # Blue Heron's approval alone now clears the first output.
    flow.do("heron_steward", "review_output", ref, "blue-heron", output=first["id"])
    flow.do("heron_rep", "decide_output", ref, "blue-heron", output=first["id"])
    outputs = api.get("researcher", f"/requests/{ref}").get_json()["outputs"]
    assert {item["title"]: item["status"] for item in outputs}["Table 1"] == "cleared"
    researcher = app.test_client()
    assert sign_in(researcher, "researcher@example.org").status_code == 302
    page = researcher.get(f"/requests/{ref}/outputs/{first['id']}").text
    assert "Red Cedar Nation (fictional)" in page and "Let its review go" in page
    page = researcher.get(f"/requests/{ref}").text
    assert (
        "Waived: this request's outputs no longer wait for Red Cedar Nation (fictional)'s "
        "review before publication." in page.replace("&#39;", "'")
    )
