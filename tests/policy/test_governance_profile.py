"""The governance profile page: a Nation's representative keeps its rules and stewards."""

import re

import pytest

from portal.auth.models import User
from portal.db import session_scope
from portal.errors import Forbidden, ValidationError
from portal.registry.service import get_nation
from portal.workflow import profiles as profile

PAGE = "/nations/red-cedar/profile"
CEDAR = "Red Cedar Nation (fictional)"


@pytest.fixture
def people(nations, make_user):
    return {
        "rep": make_user("rep@cedar.example", ("representative", "red-cedar"), name="Rita Rep"),
        "steward": make_user("s@cedar.example", ("steward", "red-cedar"), name="Sam Steward"),
        "heron_rep": make_user("rep@heron.example", ("representative", "blue-heron")),
        "coordinator": make_user("c@example.org", "coordinator"),
        "admin": make_user("a@example.org", "admin"),
        "researcher": make_user("r@example.org", "researcher", name="Robin Researcher"),
    }


@pytest.fixture
def rep_client(client, people, login):
    login(client, "rep@cedar.example")
    return client


def nation_row(app) -> dict:
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        return {name: getattr(nation, name) for name in (*profile.PROFILE_FIELDS, "updated_at")}


def form_data(page_html: str, **fields) -> dict:
    data = {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_html)[1],
        "review_quorum": "2",
        "min_approvals": "1",
        "residency": "CA",
        "max_term_days": "730",
        "output_review_required": "y",
        "small_cell_threshold": "5",
    }
    return {name: value for name, value in (data | fields).items() if value is not None}


def test_the_representative_sees_the_profile_stewards_and_a_link(rep_client):
    html = rep_client.get(PAGE).get_data(as_text=True)
    assert f"Governance profile: {CEDAR}" in html
    assert 'href="/nations/red-cedar/profile"' in html, "the navigation links to it"
    assert re.search(r'<input[^>]*id="review_quorum"[^>]*value="2"', html)
    assert re.search(r'<input[^>]*id="residency"[^>]*value="CA"', html)
    assert re.search(r'<input[^>]*id="max_term_days"[^>]*value="730"', html)
    assert '<label for="steward-email">' in html
    assert "Sam Steward" in html and "Remove Sam Steward as steward" in html
    assert "<script" not in html


@pytest.mark.parametrize("who", ["steward", "heron_rep", "coordinator", "admin", "researcher"])
def test_nobody_else_may_open_it(client, people, login, who):
    email = {"steward": "s@cedar.example", "heron_rep": "rep@heron.example",
             "coordinator": "c@example.org", "admin": "a@example.org",
             "researcher": "r@example.org"}[who]  # fmt: skip
    login(client, email)
    assert client.get(PAGE).status_code == 403
    assert client.post("/nations/red-cedar/stewards", data={}).status_code in (400, 403)
    assert 'href="/nations/red-cedar/profile"' not in client.get("/").get_data(as_text=True)


def test_unknown_nations_and_strangers(client, people, login):
    assert client.get(PAGE).status_code == 302, "signed-out people are sent to sign in"
    login(client, "rep@cedar.example")
    assert client.get("/nations/no-such-nation/profile").status_code == 404
    assert client.get("/nations/blue-heron/profile").status_code == 403


def test_saving_the_profile(app, rep_client):
    before = nation_row(app)
    page = rep_client.get(PAGE).get_data(as_text=True)
    data = form_data(page, review_quorum="3", min_approvals="2", residency="CA-ON, CA-QC",
                     max_term_days="", output_review_required=None)  # fmt: skip
    response = rep_client.post(PAGE, data=data)
    assert response.status_code == 302
    assert "Profile saved." in rep_client.get(PAGE).get_data(as_text=True)
    after = nation_row(app)
    assert after["review_quorum"] == 3 and after["min_approvals"] == 2
    assert after["residency"] == ["CA-ON", "CA-QC"]
    assert after["max_term_days"] is None and after["output_review_required"] is False
    assert after["updated_at"] > before["updated_at"]


def test_bad_input_keeps_what_was_typed_names_each_field_and_writes_nothing(app, rep_client):
    before = nation_row(app)
    page = rep_client.get(PAGE).get_data(as_text=True)
    data = form_data(page, min_approvals="5", residency="CA XX QQ-9", small_cell_threshold="lots")
    response = rep_client.post(PAGE, data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field, message in [
        ("small_cell_threshold", "Give the small-cell threshold as a whole number."),
    ]:
        assert re.search(
            rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', html
        )
        assert f'<p class="error" id="{field}-error">{message}</p>' in html
    assert re.search(r'<input[^>]*id="small_cell_threshold"[^>]*value="lots"', html)
    assert nation_row(app) == before

    # The service's own rules, once the form's types are right.
    data = form_data(page, min_approvals="5", residency="CA XX QQ-9")
    html = rep_client.post(PAGE, data=data).get_data(as_text=True)
    assert (
        'id="min_approvals-error">Minimum approvals must be between 0 and the review quorum.'
        in html
    )
    assert "&#39;XX&#39;, &#39;QQ-9&#39; are not ISO 3166 country or subdivision codes" in html
    assert re.search(r'aria-describedby="residency-hint residency-error"', html)
    assert re.search(r'<input[^>]*id="residency"[^>]*value="CA XX QQ-9"', html)
    assert nation_row(app) == before


def test_a_form_without_its_token_is_refused(app, rep_client):
    before = nation_row(app)
    assert rep_client.post(PAGE, data={"review_quorum": "1"}).status_code == 400
    assert nation_row(app) == before


def test_designating_and_removing_a_steward(app, rep_client, people, ask, make_request, csrf):
    request_id = make_request(["cedar-health"])
    assert [
        rule.rule
        for rule in ask(people["researcher"], "review", "red-cedar", request_id).blocked_by
    ] == ["role"]
    page = rep_client.get(PAGE).get_data(as_text=True)
    token = csrf(page)
    response = rep_client.post(
        "/nations/red-cedar/stewards",
        data={"csrf_token": token, "steward-email": " R@example.org "},
    )
    assert response.status_code == 302
    html = rep_client.get(PAGE).get_data(as_text=True)
    assert f"Robin Researcher is now a steward of {CEDAR}." in html
    assert ask(people["researcher"], "review", "red-cedar", request_id).allowed

    # The profile page links to a confirmation, which works without JavaScript; only
    # its button removes.
    confirm_url = f"/nations/red-cedar/stewards/{people['researcher']}/remove"
    assert f'href="{confirm_url}"' in html and f'action="{confirm_url}"' not in html
    confirmation = rep_client.get(confirm_url)
    assert confirmation.status_code == 200
    text = confirmation.get_data(as_text=True)
    assert f"Remove Robin Researcher as a steward of {CEDAR}?" in text
    assert f'action="{confirm_url}"' in text and 'href="/nations/red-cedar/profile"' in text
    assert ask(people["researcher"], "review", "red-cedar", request_id).allowed, "not yet"
    response = rep_client.post(confirm_url, data={"csrf_token": csrf(text)})
    assert response.status_code == 302
    assert f"Robin Researcher is no longer a steward of {CEDAR}." in rep_client.get(PAGE).get_data(
        as_text=True
    )
    assert [
        rule.rule
        for rule in ask(people["researcher"], "review", "red-cedar", request_id).blocked_by
    ] == ["role"]
    # Not a steward (any more), or nobody at all: nothing to remove.
    for user_id in (people["researcher"], 9999):
        url = f"/nations/red-cedar/stewards/{user_id}/remove"
        assert rep_client.post(url, data={"csrf_token": token}).status_code == 404
        assert rep_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("email", "error"),
    [
        (
            "nobody@example.org",
            "No active account uses nobody@example.org: the person needs a login first.",
        ),
        ("s@cedar.example", "Sam Steward is already a steward of Red Cedar Nation (fictional)."),
        ("not an address", "An email address must have an @-sign."),
        ("", "Give the e-mail address of the person&#39;s login."),
    ],
)
def test_designation_errors_are_shown_on_the_field(rep_client, csrf, email, error):
    token = csrf(rep_client.get(PAGE).get_data(as_text=True))
    response = rep_client.post(
        "/nations/red-cedar/stewards", data={"csrf_token": token, "steward-email": email}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p class="error" id="steward-email-error">' in html and error in html
    assert re.search(
        r'<input[^>]*aria-invalid="true"[^>]*id="steward-email"[^>]*value="' + re.escape(email),
        html,
    )


def test_a_refused_address_is_said_in_french_on_a_french_page(rep_client, csrf):
    """email_validator speaks English only: its commonest reasons are in the catalogue."""
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    token = csrf(rep_client.get(PAGE, headers=french).get_data(as_text=True))
    for address, reason in [
        ("not an address", "Une adresse courriel doit contenir un @."),
        ("someone@", "Il doit y avoir quelque chose après le @."),
    ]:
        response = rep_client.post(
            "/nations/red-cedar/stewards",
            data={"csrf_token": token, "steward-email": address},
            headers=french,
        )
        assert response.status_code == 422
        assert reason in response.get_data(as_text=True), address


def test_the_services_ask_the_policy_themselves(app, people):
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        for who in ("steward", "heron_rep", "coordinator", "admin"):
            actor = session.get(User, people[who])
            with pytest.raises(
                Forbidden, match=re.escape(f"a representative of {CEDAR} may manage")
            ):
                profile.update_profile(session, actor, nation, review_quorum=1)
            with pytest.raises(Forbidden):
                profile.designate_steward(session, actor, nation, "r@example.org")
            with pytest.raises(Forbidden):
                profile.remove_steward(session, actor, nation, session.get(User, people["steward"]))
        rep = session.get(User, people["rep"])
        with pytest.raises(ValidationError) as invalid:
            profile.update_profile(session, rep, nation, framework="CARE", review_quorum="2")
        assert invalid.value.errors == {
            "framework": "Not a governance profile setting.",
            "review_quorum": "Must be a whole number.",
        }
        assert profile.update_profile(session, rep, nation, review_quorum=2) == {}
        assert profile.update_profile(session, rep, nation, residency=["ca-on"]) == {
            "residency": (["CA"], ["CA-ON"])
        }


def test_a_quorum_larger_than_the_stewards_is_pointed_out(rep_client):
    html = rep_client.get(PAGE).get_data(as_text=True)
    said = " ".join(html.split())
    assert "needs 2 steward reviews before approving, but 1 steward is designated" in said


def test_every_profile_and_steward_change_is_an_audit_event(app, nations, make_user):
    from sqlmodel import select

    from portal.audit.models import AuditEvent
    from portal.auth.service import get_user
    from portal.workflow.profiles import designate_steward, remove_steward, update_profile

    make_user("rep@example.org", ("representative", "red-cedar"))
    make_user("sam@example.org")
    with app.app_context(), session_scope() as session:
        rep = get_user(session, "rep@example.org")
        nation = get_nation(session, "red-cedar")
        before = len(session.exec(select(AuditEvent)).all())
        update_profile(session, rep, nation, review_quorum=3)
        steward = designate_steward(session, rep, nation, "sam@example.org")
        remove_steward(session, rep, nation, steward)
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()[before:]
        assert [e.action for e in events] == [
            "nation.profile_changed",
            "role.granted",
            "role.revoked",
        ]
        assert events[0].details == {"review_quorum": [2, 3]}
        assert all(e.actor_id == rep.id for e in events)
