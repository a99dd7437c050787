"""In a real browser: a Nation's representative adds a condition to its approval on its
governance page, sees the preview list the request in flight it would block, saves,
and that request's approval is blocked with the condition named (issue 16)."""

from apis import Api
from browsers import needs_chromium, on_the_sqlite_pass, sign_in_as

pytestmark = [needs_chromium, on_the_sqlite_pass]

TEAM = [
    {"name": "Robin Researcher", "email": "robin@example.org", "role": "PI"},
    {"name": "Sam Analyst", "email": "sam@example.org", "role": "RA"},
]


def test_a_representative_adds_a_condition_previews_and_saves(page, live_server, flow, app):
    ref = flow.reviewed(team=TEAM)  # Red Cedar's quorum met: its approval is open
    api = Api(app)
    [decide] = [
        option
        for option in api.get("cedar_rep", f"/requests/{ref}").get_json()["allowed_actions"]
        if option["action"] == "decide"
    ]
    assert decide["blocked_by"] == []

    sign_in_as(page, live_server, "rep.cedar@example.org")
    page.goto(f"{live_server.url}/nations/red-cedar/profile")
    page.get_by_role("heading", name="Rules for requests").wait_for()
    page.locator("#approve-team_at_most").check()
    page.locator("#approve-team_at_most-count").fill("1")
    page.get_by_role("button", name="Preview the change").click()

    preview = page.get_by_role("table", name="What the change would do")
    row = preview.get_by_role("row").filter(has_text=ref)
    assert "Would block" in row.inner_text()
    assert "at most 1 team member on a request; this request names 2" in row.inner_text()
    assert page.locator("#approve-team_at_most").is_checked()  # kept as typed
    assert page.locator("#approve-team_at_most-count").input_value() == "1"

    page.get_by_role("button", name="Save the rules").click()
    page.get_by_text("rules saved").wait_for()
    assert page.locator("#approve-team_at_most").is_checked()

    shown = api.get("cedar_rep", f"/requests/{ref}").get_json()
    [decide] = [option for option in shown["allowed_actions"] if option["action"] == "decide"]
    assert [rule["rule"] for rule in decide["blocked_by"]] == ["team_at_most"]
    refused = api.act("cedar_rep", ref, "decide", nation="red-cedar", outcome="approve")
    assert refused.status_code == 409
    assert [rule["rule"] for rule in refused.get_json()["blocked_by"]] == ["team_at_most"]
