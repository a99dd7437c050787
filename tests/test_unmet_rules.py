"""Found in a browser: a request that a Nation's rules block by what it says (where the
data is stored, for how long) reached the representative's decide page with nothing said
before, and refusing the whole request was the only way out. While a decision is ahead,
its pages now name the rules it does not meet, for everyone who sees it, on what each
reads: the researcher on their edits, everyone else on what was submitted."""

from portal.db import session_scope
from portal.registry.service import get_nation
from portal.workflow.profiles import update_profile

from flows import COMPLETE
from helpers import choose_french, csrf_token, sign_in

PANEL = "The Nations' rules this request does not meet yet"
STORED = "Red Cedar Nation (fictional) requires the data to be stored in CA"
TERM = "Red Cedar Nation (fictional) allows a term of at most 730 days; this request asks for 1000."


def page(app, email: str, path: str) -> str:
    client = app.test_client()
    sign_in(client, email)
    response = client.get(path)
    assert response.status_code == 200, path
    return response.text


def test_the_rules_a_request_does_not_meet_are_named_before_anyone_decides(app, flow):
    ref = flow.draft(storage_location="US-NY", retention_days=1000)  # Red Cedar: CA, 730 days
    shown = page(app, "researcher@example.org", f"/requests/{ref}")
    assert PANEL in shown and STORED in shown and TERM in shown
    assert "Blue Heron" not in shown.split(PANEL)[1].split("</section>")[0], "no rule of its"

    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    for email, path in (
        ("s1.cedar@example.org", f"/requests/{ref}/review/red-cedar"),
        ("s.heron@example.org", f"/requests/{ref}"),
        ("coordinator@example.org", f"/requests/{ref}"),
    ):
        shown = page(app, email, path)
        assert STORED in shown and TERM in shown, email

    # A steward asks for changes; the researcher's edits meet the rules, not yet submitted.
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="changes",
            comment="Store it in Canada, for two years at most.")  # fmt: skip
    flow.edit("researcher", ref, storage_location="CA-ON", retention_days=700)
    assert PANEL not in page(app, "researcher@example.org", f"/requests/{ref}")
    assert TERM in page(app, "s1.cedar@example.org", f"/requests/{ref}"), "as submitted"

    flow.do("researcher", "submit", ref)
    assert PANEL not in page(app, "s1.cedar@example.org", f"/requests/{ref}")


def test_nothing_is_named_once_every_nation_has_decided(app, flow):
    """A Nation that narrows its rules after approving does not reopen what it decided:
    its approval stands, and the request's pages name no rule it would now miss."""
    ref = flow.approved(retention_days=700)
    with app.app_context(), session_scope() as session:
        red_cedar, rep = get_nation(session, "red-cedar"), flow.user(session, "cedar_rep")
        update_profile(session, rep, red_cedar, max_term_days=365)
    assert PANEL not in page(app, "researcher@example.org", f"/requests/{ref}")
    assert "allows a term of at most 365 days" in page(
        app, "researcher@example.org", f"/requests/{flow.draft(retention_days=700)}"
    ), "the narrower rule is the one a new request meets"


def test_the_decide_page_names_each_unmet_rule_once(app, flow):
    """A review found the decide page listing the rules twice: among what blocks the
    approval, and again in the panel below."""
    ref = flow.draft(storage_location="US-NY")
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    decide = page(app, "rep.cedar@example.org", f"/requests/{ref}/decide/red-cedar")
    assert decide.count(STORED) == 1 and PANEL not in decide
    assert STORED in page(app, "rep.cedar@example.org", f"/requests/{ref}"), "the panel elsewhere"


def test_the_researchers_copy_counts_the_datasets_their_edits_name(app, flow):
    """Found reading the code: the researcher's copy was judged on their edits but for
    the datasets, which were counted as submitted. A Nation allowing one of its datasets
    reads what was submitted; the researcher, what they are about to submit."""
    from portal.workflow.nation_rules import set_nation_rules

    with app.app_context(), session_scope() as session:
        red_cedar, rep = get_nation(session, "red-cedar"), flow.user(session, "cedar_rep")
        one = {"review": [("datasets_at_most", {"count": "1"})]}
        set_nation_rules(session, rep, red_cedar, one)
    at_most = "Red Cedar Nation (fictional) allows at most 1 of its datasets in one request"
    ref = flow.draft(datasets=["cedar-health", "heron-schools"])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref, outcome="return", comment="Add the welfare data.")
    flow.edit("researcher", ref, datasets=["cedar-health", "heron-schools", "shared-welfare"])
    assert at_most in page(app, "researcher@example.org", f"/requests/{ref}")
    assert at_most not in page(app, "coordinator@example.org", f"/requests/{ref}"), "submitted"


def test_the_edit_page_names_the_rules_the_draft_does_not_meet(app, flow):
    """Found in a browser: the edit form, where the storage place and the retention are
    chosen, did not say that a Nation's rules refuse them; the researcher submitted and
    learnt it from a steward's request for changes. The form says it, as the request
    page does, on the saved draft."""
    ref = flow.draft(storage_location="US-NY", retention_days=1000)
    shown = page(app, "researcher@example.org", f"/requests/{ref}/edit")
    assert PANEL in shown and STORED in shown and TERM in shown
    flow.edit("researcher", ref, storage_location="CA-ON", retention_days=700)
    assert PANEL not in page(app, "researcher@example.org", f"/requests/{ref}/edit")


ASKS = "What each Nation asks of a request"
# The new-request form as a researcher fills it in: every field (flows.COMPLETE).
COMPLETE_FORM = {
    **{name: str(value) for name, value in COMPLETE.items() if name not in {"datasets", "team"}},
    "datasets": COMPLETE["datasets"],
    **{f"team-0-{key}": value for key, value in COMPLETE["team"][0].items()},
}


def test_the_new_request_page_says_what_each_nation_asks(app, flow):
    """Found in a browser: a researcher who filled in a new request and pressed "Save
    and submit" was never told where a Nation wants its data stored, or for how long:
    the rules were named only on the saved draft's pages, and the request went out.
    The new-request page says what each Nation whose datasets can be chosen asks of
    what a request says, with its own values. Submitting stays as it is from the edit
    page: the request goes out, and its page names each rule it does not meet."""
    from portal.workflow.nation_rules import set_nation_rules

    with app.app_context(), session_scope() as session:
        blue_heron, rep = get_nation(session, "blue-heron"), flow.user(session, "heron_rep")
        set_nation_rules(session, rep, blue_heron, {"review": [("team_at_most", {"count": "2"})]})
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    shown = client.get("/requests/new").text
    asks = shown.split(ASKS)[1].split("</details>")[0]
    cedar, heron = asks.split("Red Cedar Nation (fictional)")[1], asks.split("Blue Heron")[1]
    assert "The data is stored in CA." in cedar
    assert "The data is kept for at most 730 days." in cedar
    assert "at most 2 team members" in heron.split("Red Cedar")[0], "the Nation's own rule"
    assert "at most 2 team members" not in cedar and "stored in" not in heron.split("Red")[0]

    typed = {**COMPLETE_FORM, "storage_location": "US-NY", "retention_days": "1000"}
    sent = client.post(
        "/requests/new", data={"csrf_token": csrf_token(shown), "submit": "1", **typed}
    )
    assert sent.status_code == 302, "it goes out as from the edit page"
    landed = client.get(sent.headers["Location"]).text
    assert "Submitted." in landed and PANEL in landed and STORED in landed and TERM in landed

    choose_french(client)
    french = client.get("/requests/new").text
    assert "Ce que chaque Nation exige d’une demande" in french
    assert "Les données sont conservées au plus 730 jours." in french
