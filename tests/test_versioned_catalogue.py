"""The catalogue of standard conditions is a governance rule: decisions (the page, the
API, the workflow) use the catalogue of the rules version in force, and a change the
members approve may reword, add or remove an entry; what a change may hold is bounded
so that every decision's text comes out whole."""

import pytest
from sqlmodel import select

from portal.db import session_scope
from portal.policy import versions
from portal.policy.models import RulesOrigin, rules_version_in_force
from portal.policy.standard_texts import LABEL_MAX, TEXT_MAX, check_catalogue
from portal.requests.models import AccessRequest
from portal.reviews.models import Decision
from portal.reviews.terms import default_catalogue

from apis import Api, problem
from helpers import csrf_token, sign_in
from rule_changes import install

CEDAR_AGGREGATE = "Only aggregate tables leave the project; cells under 5 stay hidden."
CEDAR_ELDERS = "Red Cedar Nation (fictional)'s Elders read the results first, in CA-ON."


def decisions(app, ref: str) -> dict[str, Decision]:
    """The decisions on ``ref`` by their Nation's id, in the order they were made."""
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        rows = session.exec(
            select(Decision).where(Decision.request_id == request.id).order_by(Decision.id)
        ).all()
        session.expunge_all()
        return {row.nation_id: row for row in rows}


def test_a_decision_takes_the_texts_of_the_catalogue_in_force_when_it_is_made(app, flow):
    ref = flow.reviewed()
    flow.do("heron_rep", "decide", ref, "blue-heron", conditions=["aggregate_only"])
    number = install(app)
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=["aggregate_only", "elders_first"])
    heron, cedar = decisions(app, ref).values()
    assert heron.rules_version == number - 1 and cedar.rules_version == number
    assert heron.conditions == [
        {
            "code": "aggregate_only",
            "text": "Only aggregate results are released; cells below 5 are suppressed.",
        }
    ], "a decision made before the change keeps the text it was made with"
    assert cedar.conditions == [
        {"code": "aggregate_only", "text": CEDAR_AGGREGATE},
        {"code": "elders_first", "text": CEDAR_ELDERS},
    ]


def test_the_api_accepts_the_codes_in_force_and_refuses_others_by_name(app, flow):
    api = Api(app)
    ref = flow.reviewed()

    def decide(who: str, nation: str, *conditions: str):
        body = {"nation": nation, "outcome": "approve", "conditions": list(conditions)}
        return api.act(who, ref, "decide", **body)

    body = problem(decide("cedar_rep", "red-cedar", "elders_first"), 422)
    assert body["errors"] == [
        {"field": "conditions", "message": "elders_first is not a standard condition of the "
         "rules in force."}
    ], "a code not yet in the catalogue"  # fmt: skip
    assert decide("heron_rep", "blue-heron", "no_linkage", "confidentiality").status_code == 200
    assert decisions(app, ref).popitem()[1].conditions[1] == {
        "code": "custom",
        "text": "confidentiality",
    }, "a plain word is a Nation's own words, not a mistyped code"
    install(app)
    body = problem(decide("cedar_rep", "red-cedar", "no_linkage", "Elders first."), 422)
    assert [e["field"] for e in body["errors"]] == ["conditions"]
    assert "no_linkage is not a standard condition" in body["errors"][0]["message"]
    assert flow.status(ref) == "under_review", "a refused decision writes nothing"
    answer = decide("cedar_rep", "red-cedar", "elders_first", "Share with the Elders.")
    assert answer.status_code == 200 and answer.get_json()["status"] == "awaiting_signatures"
    cedar = decisions(app, ref).popitem()[1]
    assert cedar.conditions == [
        {"code": "elders_first", "text": CEDAR_ELDERS},
        {"code": "custom", "text": "Share with the Elders."},
    ], "a Nation's own words are still kept as written"


def test_the_decision_page_offers_the_catalogue_in_force(app, client, flow):
    ref = flow.reviewed()
    path = f"/requests/{ref}/decide/red-cedar"
    sign_in(client, "rep.cedar@example.org")
    before = client.get(path).text
    assert "No linkage with other data without a new request" in before
    assert "Aggregate results only, small cells suppressed" in before
    assert "The Elders read the results first" not in before
    install(app)
    page = client.get(path).text
    assert "No linkage with other data" not in page and 'value="no_linkage"' not in page
    assert "Aggregate tables only" in page and "Aggregate results only" not in page
    assert 'value="elders_first"' in page and "The Elders read the results first" in page
    token = csrf_token(page)
    removed = client.post(
        path, data={"csrf_token": token, "outcome": "approve", "standard_conditions": "no_linkage"}
    )
    assert removed.status_code == 422
    assert "Choose standard conditions from the list." in removed.text
    assert flow.status(ref) == "under_review"
    chosen = {"csrf_token": token, "outcome": "approve", "standard_conditions": "elders_first"}
    assert client.post(path, data=chosen).status_code == 302
    cedar = decisions(app, ref).popitem()[1]
    assert cedar.conditions == [{"code": "elders_first", "text": CEDAR_ELDERS}]


def test_the_first_catalogue_passes_its_own_check():
    assert check_catalogue(default_catalogue()) == []


def problems_of(code: str, label: str = "A label", text: str = "A text.") -> list[str]:
    return [p.message for p in check_catalogue({code: {"label": label, "text": text}})]


@pytest.mark.parametrize("code", ["elders_first", "a", "rule2", "x" * 60])
def test_a_code_of_lowercase_letters_digits_and_underscores_is_a_code(code):
    assert problems_of(code) == []


@pytest.mark.parametrize("code", ["Elders_first", "elders-first", "2nd", "_x", "a b", "x" * 61])
def test_anything_else_is_no_code(code):
    assert problems_of(code) == [
        "its code must be lowercase letters, digits and underscores, from a letter"
    ]


def test_custom_is_kept_for_a_nations_own_words():
    assert problems_of("custom") == ["custom marks a Nation's own words"]


@pytest.mark.parametrize(
    "text", ["{nation} first.", "Below {threshold}.", "In {location}.", "{{braces}} stay."]
)
def test_a_condition_text_may_name_the_deciding_nations_values(text):
    assert problems_of("x", text=text) == []


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{name} first.", "{name}"),
        ("{nation.__class__} first.", "{nation.__class__}"),
        ("Below {threshold:>9}.", "{threshold:>9}"),
        ("{nation!r} first.", "{nation!r}"),
        ("{} first.", "{}"),
        ("{0} first.", "{0}"),
    ],
)
def test_a_condition_text_may_name_nothing_else(text, named):
    allowed = "{location}, {nation}, {threshold}"
    assert problems_of("x", text=text) == [f"its text may name only {allowed}, not {named}"]


@pytest.mark.parametrize("text", ["A { alone.", "A } alone."])
def test_a_lone_brace_is_refused(text):
    assert problems_of("x", text=text) == [
        "its text has a { or } without its pair (write {{ or }})"
    ]


def test_label_and_text_are_required_and_bounded():
    assert problems_of("x", label=" ") == ["needs a label"]
    assert problems_of("x", text="") == ["needs a text"]
    assert problems_of("x", label="l" * LABEL_MAX, text="t" * TEXT_MAX) == []
    assert problems_of("x", label="l" * (LABEL_MAX + 1)) == [
        f"its label is longer than {LABEL_MAX} characters"
    ]
    assert problems_of("x", text="t" * (TEXT_MAX + 1)) == [
        f"its text is longer than {TEXT_MAX} characters"
    ]
    assert [p.message for p in check_catalogue({"x": "A text"})] == ["needs a label and a text"]


def test_a_change_that_breaks_the_catalogue_is_not_installed(app):
    with app.app_context(), session_scope() as session:
        number = rules_version_in_force(session)
        bad = {"catalogue": {"elders_first": {"label": "Elders", "text": "{elders} first."}}}
        with pytest.raises(versions.RulesInvalid, match="condition elders_first: its text"):
            versions.install(session, bad, origin=RulesOrigin.PROPOSAL, summary="x")
        assert rules_version_in_force(session) == number
