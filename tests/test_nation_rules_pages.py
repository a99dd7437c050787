"""A Nation's own rules on its governance page and in the API: the representative
previews and saves; everyone else is refused; errors keep what was typed."""

import pytest

from portal.db import session_scope
from portal.policy.versions import number_in_force
from portal.registry.service import get_nation
from portal.workflow import nation_rules

from apis import Api
from helpers import csrf_token, sign_in

PAGE = "/nations/red-cedar/profile"
RULES = "/nations/red-cedar/rules"
TEAM = [
    {"name": "Robin Researcher", "email": "robin@example.org", "role": "PI"},
    {"name": "Sam Analyst", "email": "sam@example.org", "role": "RA"},
]


def signed_in(app, who: str):
    client = app.test_client()
    from flows import PEOPLE

    assert sign_in(client, PEOPLE[who][0]).status_code == 302
    return client


def post_rules(client, intent: str, **fields):
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    return client.post(RULES, data={"csrf_token": token, "intent": intent, **fields})


def version(app) -> int | None:
    with app.app_context(), session_scope() as session:
        return number_in_force(session)


def test_the_page_shows_the_rules_with_what_every_nation_needs(app, flow):
    page = signed_in(app, "cedar_rep").get(PAGE).get_data(as_text=True)
    assert "Rules for requests" in page
    assert "Always required, for every Nation:" in page
    assert "The Nation&#39;s review quorum of designated" in page  # quorum_met, in words
    assert 'name="approve-team_at_most"' in page and 'name="approve-team_at_most-count"' in page
    assert 'name="approve-recommendations_unanimous"' in page
    assert 'name="review-recommendations_unanimous"' not in page  # approval's alone
    assert 'name="approve-quorum_met"' not in page  # every Nation's already: not a choice


def test_preview_then_save(app, flow):
    ref = flow.reviewed(team=TEAM)
    client = signed_in(app, "cedar_rep")
    fields = {"approve-team_at_most": "y", "approve-team_at_most-count": "1"}
    before = version(app)

    preview = post_rules(client, "preview", **fields)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert ref in html and "Would block" in html
    assert "allows at most 1 team member on a request; this request names 2." in html
    assert 'value="1"' in html  # as typed
    assert version(app) == before  # a preview writes nothing

    saved = post_rules(client, "save", **fields)
    assert saved.status_code == 302
    assert version(app) == (before or 0) + 1
    page = client.get(PAGE).get_data(as_text=True)
    assert "rules saved" in page and "at most 1 team members" in page
    assert '<input checked id="approve-team_at_most" name="approve-team_at_most"' in page
    # Unchecking it all saves the rules with none of the Nation's own.
    assert post_rules(client, "save").status_code == 302
    with app.app_context(), session_scope() as session:
        own = nation_rules.nation_rules(session, get_nation(session, "red-cedar"))
    assert own == {nation_rules.Action.REVIEW: [], nation_rules.Action.APPROVE: []}


@pytest.mark.parametrize("intent", ["preview", "save"])
def test_errors_keep_what_was_typed_and_write_nothing(app, flow, intent):
    client = signed_in(app, "cedar_rep")
    before = version(app)
    answer = post_rules(
        client, intent, **{"approve-team_at_most": "y", "approve-team_at_most-count": "zero"}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "There is a problem" in html and "count must be a whole number." in html
    assert 'value="zero"' in html
    assert version(app) == before


@pytest.mark.parametrize("who", ["cedar_steward1", "heron_rep", "admin", "coordinator"])
def test_only_its_representatives_reach_the_rules_form(app, flow, who):
    client = signed_in(app, who)
    token = csrf_token(client.get("/account").get_data(as_text=True))
    answer = client.post(
        RULES, data={"csrf_token": token, "intent": "save", "approve-team_at_most": "y"}
    )
    assert answer.status_code == 403


# --- the API -------------------------------------------------------------------------


@pytest.fixture
def api(app, flow):
    return Api(app)


def test_the_api_reads_sets_and_previews_a_nations_rules(app, flow, api):
    ref = flow.reviewed(team=TEAM)
    body = {"review": [], "approve": [{"condition": "team_at_most", "params": {"count": 1}}]}
    preview = api.post("cedar_rep", "/nations/red-cedar/rules/preview", json=body)
    assert preview.status_code == 200
    [row] = preview.get_json()["items"]
    assert (row["ref"], row["action"], row["effect"]) == (ref, "approve", "would block")

    saved = api.call("cedar_rep", "PUT", "/nations/red-cedar/rules", json=body)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["approve"] == [
        {
            "condition": "team_at_most",
            "params": {"count": 1},
            "words": "The request names at most 1 team members who will handle the data.",
        }
    ]
    read = api.get("researcher", "/nations/red-cedar/rules").get_json()  # anyone signed in
    assert read["approve"][0]["condition"] == "team_at_most"
    assert "quorum_met" in [c["condition"] for c in read["always_required"]["approve"]]
    assert read["rules_version"] == version(app)

    # The request in flight is now blocked, with the rule named.
    shown = api.get("cedar_rep", f"/requests/{ref}").get_json()
    [decide] = [a for a in shown["allowed_actions"] if a["action"] == "decide"]
    assert [rule["rule"] for rule in decide["blocked_by"]] == ["team_at_most"]
    decided = api.act("cedar_rep", ref, "decide", nation="red-cedar", outcome="approve")
    assert decided.status_code == 409
    assert [r["rule"] for r in decided.get_json()["blocked_by"]] == ["team_at_most"]


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("heron_rep", {"approve": []}, 403),
        ("cedar_steward1", {"approve": []}, 403),
        ("admin", {"approve": []}, 403),
        ("cedar_rep", {"approve": [{"condition": "full_moon"}]}, 422),
        ("cedar_rep", {"approve": [{"condition": "team_at_most", "params": {"count": 0}}]}, 422),
        ("cedar_rep", {"refuse": [{"condition": "ethics_approval_given"}]}, 422),
        ("cedar_rep", {"approve": [{"condition": "team_at_most", "params": {"count": "1"}}]}, 422),
    ],
)
def test_the_api_refuses_what_will_not_do_and_writes_nothing(app, api, who, body, status):
    before = version(app)
    for path in ("/nations/red-cedar/rules", "/nations/red-cedar/rules/preview"):
        method = "PUT" if path.endswith("rules") else "POST"
        assert api.call(who, method, path, json=body).status_code == status
    assert version(app) == before


def test_an_unknown_nation_is_not_found(api):
    assert api.get("cedar_rep", "/nations/no-such-nation/rules").status_code == 404
    put = api.call("cedar_rep", "PUT", "/nations/no-such-nation/rules", json={"approve": []})
    assert put.status_code == 404


def test_rules_saved_in_french_keep_an_english_summary(app, flow):
    """The version's summary is stored and read by everyone: it is written in English
    whatever the representative's pages speak, never half in French."""
    from sqlmodel import select

    from portal.policy.models import RulesVersion

    client = signed_in(app, "cedar_rep")
    client.set_cookie("language", "fr")
    fields = {"approve-team_at_most": "y", "approve-team_at_most-count": "1"}
    assert post_rules(client, "save", **fields).status_code == 302
    with app.app_context(), session_scope() as session:
        summary = session.exec(
            select(RulesVersion.summary).order_by(RulesVersion.number.desc())
        ).first()
    assert summary.startswith("Red Cedar Nation (fictional) set its own rules: review:")
    assert "approve needs: The request names at most 1 team members" in summary
