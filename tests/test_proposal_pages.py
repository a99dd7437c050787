"""The pages and the API of portal-wide rule changes: a proposal made, read in words,
answered by the member Nations' representatives and applied; what may not be proposed
is refused on both, naming the problem, and nothing is written."""

import pytest

from apis import Api
from governing import BREAKING, NO_WITHDRAW, add_members, counts, propose, rep
from helpers import csrf_token, sign_in

ADMIN = "admin@example.org"


@pytest.fixture
def members(app, nations, make_user):
    make_user(ADMIN, "admin", name="Ada Admin")
    make_user("coordinator@example.org", "coordinator")
    return add_members(app, make_user, 3)


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def post_form(client, path: str, data: dict, page: str | None = None):
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def as_rows(lines: list[list[str]]) -> str:
    return "\n".join(", ".join(line) for line in lines)


def test_a_proposal_made_on_the_page_is_read_in_words_and_applied_by_a_majority(app, members):
    admin = signed_in(app, ADMIN)
    assert 'href="/rules/proposals"' in admin.get("/").text
    made = post_form(
        admin,
        "/rules/proposals/new",
        {
            "title": "Researchers no longer withdraw",
            "explanation": "A test of the rules (fictional).",
            "nation": "",
            "lines_remove": "p, researcher, *, withdraw",
            "clause_code": "",
        },
    )
    assert made.status_code == 302, made.text
    page = admin.get(made.headers["Location"]).text
    assert "Removed" in page and "p, researcher, *, withdraw" in page
    assert "2 of 3 member Nations must approve" in page
    assert "Not answered" in page and "Withdraw this proposal" in page
    assert "Give your Nation's answer" not in page, "an administrator answers for no Nation"

    cedar = signed_in(app, rep("red-cedar"))
    path = made.headers["Location"]
    shown = cedar.get(path).text
    assert "Give your Nation's answer" in shown and "Withdraw this proposal" not in shown
    answered = post_form(
        cedar, f"{path}/votes", {"nation": "red-cedar", "vote": "approve", "comment": "Yes"}, path
    )
    assert answered.status_code == 302
    shown = cedar.get(path).text
    assert "Approves" in shown and "Yes" in shown and "Rep of red-cedar" in shown
    assert "Give your Nation's answer" not in shown, "a Nation answers once"

    heron = signed_in(app, rep("blue-heron"))
    post_form(heron, f"{path}/votes", {"nation": "blue-heron", "vote": "approve"}, path)
    shown = heron.get(path).text
    assert "Applied" in shown and "In force as rules version" in shown
    listing = heron.get("/rules/proposals").text
    assert "Researchers no longer withdraw" in listing and "2 of 3" in listing
    record = heron.get("/nations/blue-heron/record")  # each member Nation's record holds it
    assert record.status_code == 200
    for kind in ("was proposed", "answered a proposed change", "a new version is in force"):
        assert kind in record.text, kind


def test_a_proposal_and_the_rules_history_speak_french(app, members):
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    cedar = signed_in(app, rep("red-cedar"))
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = cedar.get(f"/rules/proposals/{proposal_id}", headers=french).text
    assert f"Modification proposée nº {proposal_id}" in page
    assert "Les réponses des Nations membres" in page and "Pas de réponse" in page
    assert "Donner la réponse de votre Nation" in page and "Approuver la modification" in page
    listing = cedar.get("/rules/proposals", headers=french).text
    assert "Modifications des règles de l’ensemble du portail" in listing
    history = cedar.get("/rules/history", headers=french).text
    assert "Historique des règles" in history and "Chargées à l’installation" in history


def test_a_vote_with_errors_comes_back_and_others_are_refused(app, members):
    proposal_id = propose(app, ADMIN, NO_WITHDRAW)
    path = f"/rules/proposals/{proposal_id}"
    cedar = signed_in(app, rep("red-cedar"))
    coordinator = signed_in(app, "coordinator@example.org")
    before = counts(app)
    answer = post_form(cedar, f"{path}/votes", {"nation": "red-cedar", "comment": "Kept"}, path)
    assert answer.status_code == 422
    assert "Choose approve or object." in answer.text and "Kept" in answer.text
    refused = post_form(
        coordinator, f"{path}/votes", {"nation": "red-cedar", "vote": "approve"}, path
    )
    assert refused.status_code == 403
    other = post_form(cedar, f"{path}/votes", {"nation": "blue-heron", "vote": "approve"}, path)
    assert other.status_code == 403
    assert counts(app) == before
    assert coordinator.get("/rules/proposals/new").status_code == 403


def test_the_new_proposal_form_keeps_what_was_typed_and_names_each_problem(app, members):
    admin = signed_in(app, ADMIN)
    before = counts(app)
    answer = post_form(
        admin,
        "/rules/proposals/new",
        {"title": "", "lines_add": "p, coordinator, *, approve", "condition_code": "Bad Code"},
    )
    assert answer.status_code == 422
    assert "Say what the change is" in answer.text
    assert "p, coordinator, *, approve" in answer.text, "kept as typed"
    assert 'class="error-summary"' in answer.text
    empty = post_form(admin, "/rules/proposals/new", {"title": "Nothing"})
    assert "Give at least one change" in empty.text
    assert counts(app) == before


@pytest.mark.parametrize("case", BREAKING)
def test_the_invariants_cannot_be_broken_from_the_page(app, members, case):
    lines = BREAKING[case]["lines"]
    admin = signed_in(app, ADMIN)
    before = counts(app)
    answer = post_form(
        admin,
        "/rules/proposals/new",
        {
            "title": f"Break it: {case}",
            "lines_add": as_rows(lines["add"]),
            "lines_remove": as_rows(lines["remove"]),
        },
    )
    assert answer.status_code == 422
    assert "There is a problem" in answer.text
    named = lines["add"] or lines["remove"]
    assert ", ".join(named[0]) in answer.text, "the problem names the line"
    assert counts(app) == before


@pytest.mark.parametrize("case", BREAKING)
def test_the_invariants_cannot_be_broken_through_the_api(app, members, case):
    api = Api(app)
    api.token(ADMIN)
    before = counts(app)
    answer = api.post(ADMIN, "/rules/proposals", json={"title": case, "changes": BREAKING[case]})
    assert answer.status_code == 422, answer.get_json()
    fields = {error["field"] for error in answer.get_json()["errors"]}
    assert fields == {"lines"}
    assert counts(app) == before


def test_the_whole_journey_through_the_api(app, members):
    api = Api(app)
    made = api.post(
        rep("red-cedar"),
        "/rules/proposals",
        json={"title": "No withdrawing", "nation": "red-cedar", "changes": NO_WITHDRAW},
    )
    assert made.status_code == 201, made.get_json()
    proposal = made.get_json()
    assert proposal["proposer"] == "Rep of red-cedar" and proposal["nation"] == "red-cedar"
    assert proposal["may_vote_for"] == ["red-cedar"] and proposal["may_withdraw"]
    path = f"/rules/proposals/{proposal['id']}"
    assert api.get("coordinator@example.org", path).get_json()["may_vote_for"] == []
    assert (
        api.post(
            "coordinator@example.org",
            f"{path}/votes",
            json={"nation": "red-cedar", "vote": "approve"},
        ).status_code
        == 403
    )
    assert api.post(rep("blue-heron"), f"{path}/withdraw").status_code == 403
    bad = api.post(rep("blue-heron"), f"{path}/votes", json={"nation": "blue-heron", "vote": "x"})
    assert bad.status_code == 422
    objected = api.post(
        rep("blue-heron"), f"{path}/votes", json={"nation": "blue-heron", "vote": "object"}
    )
    assert objected.get_json()["status"] == "rejected"
    again = api.post(
        rep("red-cedar"), f"{path}/votes", json={"nation": "red-cedar", "vote": "approve"}
    )
    assert again.status_code == 409
    listed = api.get(ADMIN, "/rules/proposals").get_json()["items"]
    assert [(p["id"], p["status"], p["objections"]) for p in listed] == [
        (proposal["id"], "rejected", 1)
    ]
    assert api.get(ADMIN, "/rules/proposals/999999").status_code == 404
    for unknown in ("abc", "%C2%B2", "99999999999", "0"):  # "²" is a digit to str.isdigit()
        assert api.get(ADMIN, f"/rules/proposals/{unknown}").status_code == 404, unknown
        assert api.post(ADMIN, f"/rules/proposals/{unknown}/withdraw").status_code == 404
    assert signed_in(app, ADMIN).get("/rules/proposals/99999999999").status_code == 404
