"""The workflow's pages: forms keep what was typed, refusals explain themselves and
change nothing, and people reach only what their roles allow."""

from html import unescape

import pytest
from sqlmodel import select
from test_access_matrix import given_twice

from portal.db import session_scope
from portal.notify.models import OutboxMessage
from portal.requests.models import AccessRequest

from helpers import csrf_token, sign_in


def form_data(page_html: str, **fields) -> dict:
    data = {"csrf_token": csrf_token(page_html), **fields}
    return data


def test_a_draft_with_errors_comes_back_as_typed(client, flow):
    sign_in(client, "researcher@example.org")
    page = client.get("/requests/new").text
    data = form_data(
        page,
        title="Kept title",
        purpose="Kept purpose",
        storage_location="Atlantis",
        retention_days="soon",
        datasets=["cedar-health"],
    )
    response = client.post("/requests/new", data=data)
    html = response.text
    assert response.status_code == 422
    assert 'value="Kept title"' in html and "Kept purpose" in html and 'value="Atlantis"' in html
    assert 'value="cedar-health" checked' in html or 'checked id="datasets-0"' in html
    assert "is not an ISO 3166" in html
    assert "Give the retention as a whole number of days." in html, "named, in words"
    assert "Not a valid integer value" not in html
    with flow.app.app_context(), session_scope() as session:
        assert session.exec(select(AccessRequest)).all() == [], "nothing was written"


def test_the_edit_page_always_offers_rows_for_more_team_members(client, flow):
    """Found in a browser: a draft naming three members showed three filled rows and no
    empty one, so a fourth could never be added (the page works without JavaScript)."""
    three = [
        {"name": f"M{n} (fictional)", "email": f"m{n}@example.org", "role": "A"} for n in "123"
    ]
    ref = flow.draft(team=three)
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}/edit").text
    assert 'value="m3@example.org"' in page and 'name="team-5-email"' in page
    assert 'name="team-6-email"' not in page  # three empty rows after the named
    fourth = {"name": "M4 (fictional)", "email": "m4@example.org", "role": "A"}
    rows = {
        f"team-{i}-{key}": value for i, m in enumerate([*three, fourth]) for key, value in m.items()
    }
    data = form_data(page, title="Kept title", **rows)
    assert client.post(f"/requests/{ref}/edit", data=data).status_code == 302
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        assert request.team == [*three, fourth]


def test_submitting_an_incomplete_draft_saves_it_and_names_each_gap(client, flow):
    sign_in(client, "researcher@example.org")
    page = client.get("/requests/new").text
    response = client.post("/requests/new", data=form_data(page, title="Only a title", submit="1"))
    with flow.app.app_context(), session_scope() as session:
        (draft,) = session.exec(select(AccessRequest)).all()
        assert (draft.title, draft.status.value) == ("Only a title", "draft")
        ref = draft.ref
    # Redirect-after-POST: reloading the page it lands on posts nothing again.
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/requests/{ref}/edit")
    for reload in range(2):
        landed = client.get(response.headers["Location"])
        html = landed.text
        assert landed.status_code == 200
        flashed = "Your draft is saved, but it cannot be submitted yet" in html
        assert flashed == (reload == 0), "the flash shows once, on landing"
        for message in ("Purpose is required", "Choose at least one dataset", "Name at least one"):
            assert message in html
        assert 'value="Only a title"' in html, "what was typed is kept"
        assert f'action="/requests/{ref}/edit"' in html, "the next save edits, not duplicates"
    with flow.app.app_context(), session_scope() as session:
        assert len(session.exec(select(AccessRequest)).all()) == 1, "no second draft"


def test_an_empty_draft_is_refused_and_nothing_is_written(client, flow):
    sign_in(client, "researcher@example.org")
    page = client.get("/requests/new").text
    for button in ("save", "submit"):
        response = client.post("/requests/new", data=form_data(page, **{button: "1"}))
        assert response.status_code == 422
        assert "Nothing was typed" in response.text
        assert 'class="error-summary"' in response.text
    with flow.app.app_context(), session_scope() as session:
        assert session.exec(select(AccessRequest)).all() == [], "nothing was written"


def test_the_dataset_picker_shows_whose_data_each_holds(client, flow):
    sign_in(client, "researcher@example.org")
    html = client.get("/requests/new").text
    assert "Data of: Blue Heron Métis (fictional), Red Cedar Nation (fictional)" in html


def test_a_refused_transition_explains_itself_and_changes_nothing(app, client, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    sign_in(client, "rep.cedar@example.org")
    page = client.get(f"/requests/{ref}/decide/red-cedar").text
    assert "Approval is not possible yet" in page
    assert "requires 2 steward reviews of this revision; 1 recorded" in page
    response = client.post(
        f"/requests/{ref}/decide/red-cedar", data=form_data(page, outcome="approve")
    )
    assert response.status_code == 409
    assert "Nothing was changed." in response.text
    assert "quorum_met" not in response.text  # the rule in words, never its id
    assert flow.status(ref) == "under_review"


def test_a_representative_may_refuse_before_screening(client, flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    sign_in(client, "rep.heron@example.org")
    assert "Refuse for Blue Heron" in client.get(f"/requests/{ref}").text
    page = client.get(f"/requests/{ref}/decide/blue-heron").text
    response = client.post(
        f"/requests/{ref}/decide/blue-heron",
        data=form_data(page, outcome="refuse", reason="Not now.", confirm_refusal="y"),
    )
    assert response.status_code == 302
    assert flow.status(ref) == "refused"


def test_withdrawing_through_the_page(client, flow):
    ref = flow.to_review()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}").text
    response = client.post(f"/requests/{ref}/withdraw", data=form_data(page, reason=""))
    assert response.status_code == 422 and "Say why the request is withdrawn." in response.text
    html = response.text
    # The summary links to the field as it is on the page, in a panel left open.
    assert 'href="#withdraw-reason"' in html and 'id="withdraw-reason"' in html
    assert 'href="#reason"' not in html
    assert '<details class="withdraw" open>' in html
    assert 'aria-invalid="true"' in html[html.index('id="withdraw-reason"') - 200 :]
    assert '<details class="withdraw">' in client.get(f"/requests/{ref}").text, "closed at first"
    response = client.post(
        f"/requests/{ref}/withdraw", data=form_data(page, reason="Funding ended")
    )
    assert response.status_code == 302 and flow.status(ref) == "withdrawn"


def test_each_step_notifies_whoever_acts_next(app, flow):
    def recipients():
        with app.app_context(), session_scope() as session:
            rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            return [(row.recipient, row.subject) for row in rows]

    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    assert {r for r, _ in recipients()} == {"coordinator@example.org", "researcher@example.org"}
    seen = len(recipients())
    flow.do("coordinator", "screen", ref)
    new = {r for r, _ in recipients()[seen:]}
    assert new == {
        "s1.cedar@example.org",
        "s2.cedar@example.org",
        "s3.cedar@example.org",
        "s.heron@example.org",
        "researcher@example.org",
    }
    seen = len(recipients())
    flow.do("heron_steward", "review", ref, "blue-heron")  # Blue Heron's quorum is 1
    assert [r for r, _ in recipients()[seen:]] == ["rep.heron@example.org"]
    seen = len(recipients())
    flow.do("heron_rep", "decide", ref, "blue-heron", outcome="refuse", reason="No.")
    assert {r for r, _ in recipients()[seen:]} == {
        "researcher@example.org",
        "coordinator@example.org",
    }


ROLES = [
    "researcher",
    "other_researcher",
    "coordinator",
    "admin",
    "cedar_steward1",
    "cedar_rep",
    "heron_steward",
    "heron_rep",
]
# What each role gets on each page of a two-Nation request under review (and its own draft).
HIDDEN = {"other_researcher": 404, "admin": 404}  # may not know of the request at all
NOT_YOURS = dict.fromkeys(
    ["researcher", "coordinator", "cedar_steward1", "cedar_rep", "heron_steward", "heron_rep"],
    403,
)
EXPECTED = {
    "/requests/{ref}": HIDDEN,
    # Under review: the researcher's draft pages are closed by the state (409), not by who.
    "/requests/{ref}/edit": {**NOT_YOURS, **HIDDEN, "researcher": 409},
    "/requests/{ref}/screen": {**NOT_YOURS, **HIDDEN, "coordinator": 409},
    "/requests/{ref}/review/red-cedar": {**NOT_YOURS, **HIDDEN, "cedar_steward1": 200},
    "/requests/{ref}/decide/red-cedar": {**NOT_YOURS, **HIDDEN, "cedar_rep": 200},
    "/requests/{ref}/revoke/red-cedar": {**NOT_YOURS, **HIDDEN, "cedar_rep": 409},
    "/requests/{ref}/decide/nowhere": dict.fromkeys(ROLES, 404),
    "/requests/new": {},
    "/": {},
}


@pytest.mark.parametrize("who", ROLES)
def test_every_page_for_every_role(client, flow, who):
    from flows import PEOPLE

    ref = flow.to_review()
    sign_in(client, PEOPLE[who][0])
    for template, exceptions in EXPECTED.items():
        path = template.format(ref=ref)
        page = client.get(path)
        assert page.status_code == exceptions.get(who, 200), f"{who} GET {path}"
        assert given_twice(page.text) == [], f"{who} GET {path}"


def test_pages_need_a_signed_in_person(client, flow):
    ref = flow.to_review()
    for template in EXPECTED:
        if template == "/":
            continue
        response = client.get(template.format(ref=ref))
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_nul_character_is_refused_not_a_server_error(client, flow):
    sign_in(client, "researcher@example.org")
    page = client.get("/requests/new").text
    response = client.post("/requests/new", data=form_data(page, title="bad\x00title"))
    # Refused for every form at once, before the page reads it (portal/web.py).
    assert response.status_code == 400 and "contains a NUL character" in response.text


def test_the_language_of_the_agreement_is_chosen_kept_and_shown(client, flow):
    sign_in(client, "researcher@example.org")
    page = client.get("/requests/new").text
    assert "Language of the agreement" in page
    assert 'value="en" checked' in page or 'checked id="agreement_language-0"' in page
    # A form with errors comes back with the language as chosen.
    data = form_data(page, title="Kept", retention_days="soon", agreement_language="both")
    response = client.post("/requests/new", data=data)
    assert response.status_code == 422
    assert 'checked id="agreement_language-2"' in response.text or (
        'value="both" checked' in response.text
    )
    # A value the form does not offer is refused in words, nothing written.
    data = form_data(page, title="Kept", agreement_language="klingon")
    response = client.post("/requests/new", data=data)
    assert response.status_code == 422
    assert "Must be one of 'en', 'fr', 'both'." in unescape(response.text)
    # Saved, the request page shows it to whoever reads the request.
    data = form_data(page, title="In French", agreement_language="fr")
    saved = client.post("/requests/new", data=data)
    assert saved.status_code == 302
    with flow.app.app_context(), session_scope() as session:
        (draft,) = session.exec(select(AccessRequest)).all()
        assert draft.agreement_language == "fr"
        ref = draft.ref
    shown = client.get(f"/requests/{ref}").text
    assert "Language of the agreement</dt><dd>French</dd>" in shown


def test_the_request_page_and_the_review_page_speak_french(client, flow):
    """A French browser reads the request page and the steward's review page in French:
    headings, the status, the form's labels; the request's own words stay as typed."""
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    ref = flow.to_review()
    sign_in(client, "s1.cedar@example.org")
    page = client.get(f"/requests/{ref}", headers=french).text
    assert '<html lang="fr-CA">' in page
    assert "La suite" in page and "Ce que vous pouvez faire" in page
    assert "La participation de chaque Nation" in page and "Derniers événements" in page
    assert "En cours d’examen" in page, "the status, in French"
    assert "What happens next" not in page and "Latest events" not in page
    review = client.get(f"/requests/{ref}/review/red-cedar", headers=french).text
    assert "Examen au nom de" in review and "Critères" in review
    assert "Recommandation" in review and "Consigner mon examen" in review
    assert "Solidité de la méthode" in review, "a criterion, in French"
    assert "Record my review" not in review
    # The same pages in English, as before.
    assert "What happens next" in client.get(f"/requests/{ref}").text


def test_a_standard_condition_reads_in_french_as_in_the_agreement(client, flow):
    """Found in a browser: on French pages the standard conditions of a decision and of
    the obligations were in English, though the French agreement has them in French. A
    Nation's own words stay as it wrote them."""
    own = "Share results with the Elders (fictional)."
    ref = flow.active(cedar_conditions=["aggregate_only", own])
    sign_in(client, "researcher@example.org")
    french_browser = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = unescape(client.get(f"/requests/{ref}", headers=french_browser).text)
    french = "Seuls des résultats agrégés sont diffusés"
    assert page.count(french) == 2, "the decision's and the obligation's"
    assert "Only aggregate results are released" not in page
    assert page.count(own) == 2
    english = unescape(client.get(f"/requests/{ref}").text)
    assert "Only aggregate results are released; cells below 5 are suppressed." in english


def test_the_french_error_summary_sets_its_colon_the_french_way(client, flow):
    """Found in a browser: "Conservation (jours): Doit…" lacked French's space before a colon."""
    sign_in(client, "researcher@example.org")
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = client.get("/requests/new", headers=french).text
    data = form_data(page, title="Gardé", retention_days="bientôt")
    html = unescape(client.post("/requests/new", data=data, headers=french).text)
    assert "Conservation (jours) : " in html and "Conservation (jours):" not in html


def test_what_changed_names_the_datasets_by_their_titles(client, flow):
    """Found in a browser: the changes between revisions listed datasets by their codes."""
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref, outcome="return", comment="Only Red Cedar's data.")
    flow.edit("researcher", ref, datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    sign_in(client, "coordinator@example.org")
    page = client.get(f"/requests/{ref}").text
    changes = page[
        page.index('id="changes-h"') : page.index("</table>", page.index('id="changes-h"'))
    ]
    assert "Cedar health; Heron schools" in changes and "Cedar health</ins>" in changes
    assert "cedar-health" not in changes


def test_an_incomplete_team_row_is_named_and_never_shown_with_empty_brackets(client, flow):
    """Found in a browser: on "Save and submit" with a bad e-mail in row 1, row 2 (a
    name, no e-mail, no role) got no message; "Save draft" kept it, shown as
    "Bo Statistician (, )"; the next submission named no row."""
    sign_in(client, "researcher@example.org")
    page = client.get("/requests/new").text
    rows = {"team-0-name": "Alex Analyst", "team-0-email": "alex@", "team-0-role": "Analyst"}
    rows["team-1-name"] = "Bo Statistician"
    first = client.post("/requests/new", data=form_data(page, title="Team", submit="1", **rows))
    html = unescape(first.text)
    assert first.status_code == 422
    assert "Member 1: 'alex@' is not an e-mail address." in html
    assert "Member 2 (Bo Statistician): add an e-mail address and a role." in html
    assert 'value="Bo Statistician"' in html, "what was typed is kept"
    rows["team-0-email"] = "alex@example.org"
    saved = client.post("/requests/new", data=form_data(page, title="Team", save="1", **rows))
    assert saved.status_code == 302
    ref = saved.headers["Location"].rsplit("/", 1)[1]
    shown = unescape(client.get(f"/requests/{ref}").text)
    assert "Bo Statistician" in shown and "(, )" not in shown and "Bo Statistician (" not in shown
    assert "Alex Analyst (Analyst, alex@example.org)" in shown
    edit = client.get(f"/requests/{ref}/edit").text
    submitted = client.post(f"/requests/{ref}/edit", data=form_data(edit, submit="1", **rows))
    landed = unescape(client.get(submitted.headers["Location"]).text)
    assert "Member 2 (Bo Statistician): add an e-mail address and a role." in landed
    assert "Member 1:" not in landed and "Member 1 (" not in landed


def _panel(html: str, slug: str) -> str:
    """The text of one Nation's panel on the request page (tags dropped)."""
    import re

    start = html.index(f'id="track-{slug}"')
    article = html[start : html.index("</article>", start)]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", article)).split())


def test_while_a_new_revision_is_screened_no_nation_panel_reads_as_current(app, flow):
    """Found in a browser: Red Cedar approved revision 1, Blue Heron asked for changes,
    and once revision 2 was submitted (and returned at screening) the page still said
    "Approved" and "its stewards are reviewing", as if of revision 2 (invariants 2, 11)."""
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    flow.do("heron_steward", "review", ref, "blue-heron", recommendation="changes",
            comment="Say how results come back to us.")  # fmt: skip
    flow.edit("researcher", ref, community_benefit="Results returned to each Nation first.")
    flow.do("researcher", "submit", ref)
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    for step in ("screening", "returned"):
        if step == "returned":
            flow.do("coordinator", "screen", ref, outcome="return", comment="Which years?")
        html = client.get(f"/requests/{ref}").text
        cedar, heron = _panel(html, "red-cedar"), _panel(html, "blue-heron")
        for panel in (cedar, heron):
            assert "Not asked yet about revision 2" in panel, (step, panel)
            assert "does not count for revision 2" in panel
            assert "Steward reviews of revision 2" not in panel, "no tally of an unasked revision"
        assert "— Approved" not in cedar and "Last state, on revision 1: approved" in cedar
        assert "Its earlier decision, on revision 1: Approved" in cedar
        assert "Last state, on revision 1: its stewards are reviewing" in heron
    # The Nation's record (its page, PDF and CSV read the same words) says so too.
    steward = app.test_client()
    sign_in(steward, "s1.cedar@example.org")
    record = unescape(steward.get("/nations/red-cedar/record").text)
    assert "not asked yet about revision 2 (on revision 1: approved)" in record
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)  # revision 3 goes before the Nations
    html = client.get(f"/requests/{ref}").text
    for slug in ("red-cedar", "blue-heron"):
        panel = _panel(html, slug)
        assert "— Its stewards are reviewing" in panel and "Not asked yet" not in panel
        assert "Steward reviews of revision 3: 0 of" in panel


def test_a_renewal_being_screened_says_the_nations_decided_the_revision_in_force(app, flow):
    ref = flow.active()
    flow.do("researcher", "renew", ref, reason="One more year (fictional).")
    client = app.test_client()
    sign_in(client, "coordinator@example.org")
    drafted = _panel(client.get(f"/requests/{ref}").text, "red-cedar")
    assert "— Approved" in drafted, "while drafted, the approval in force is what is true"
    flow.do("researcher", "submit", ref)
    panel = _panel(client.get(f"/requests/{ref}").text, "red-cedar")
    assert "Not asked yet about revision 2" in panel
    assert "Last state, on revision 1: approved" in panel


def test_a_refused_submission_names_every_empty_field_beside_the_bad_ones(client, flow):
    """Found in a browser: "Save and submit" with a bad storage code and an empty
    Purpose named the storage code alone; once it was fixed, a second answer named
    Purpose, Methods and the team. The first answer names everything submission needs."""
    sign_in(client, "researcher@example.org")
    page = client.get("/requests/new").text
    data = form_data(
        page, title="Kept title", storage_location="Atlantis", retention_days="-5", submit="1"
    )
    response = client.post("/requests/new", data=data)
    html = unescape(response.text)
    assert response.status_code == 422
    assert "is not an ISO 3166" in html and "Must be between 1 and 36500 days." in html
    for message in ("Purpose is required", "Choose at least one dataset", "Name at least one"):
        assert message in html
    assert "Say how many days" not in html, "a field with its own error is not called empty"
    with flow.app.app_context(), session_scope() as session:
        assert session.exec(select(AccessRequest)).all() == [], "nothing was written"
    data.pop("submit")
    saved = client.post("/requests/new", data={**data, "save": "1"})
    assert "Purpose is required" not in unescape(saved.text), "a draft may be incomplete"


def test_a_refused_edit_names_each_problem_once(client, flow):
    """Found in a browser: saving a draft with a bad team e-mail address said it twice,
    in the summary and under the team ("Member 1: ... Member 1: ...")."""
    ref = flow.draft()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}/edit").text
    rows = {"team-0-name": "Alex Analyst", "team-0-email": "alex@", "team-0-role": "Analyst"}
    for button in ("save", "submit"):
        response = client.post(
            f"/requests/{ref}/edit", data=form_data(page, title="Team", **{button: "1"}, **rows)
        )
        html = unescape(response.text)
        assert response.status_code == 422
        # Once in the summary at the top, once under the team's rows.
        assert html.count("Member 1: 'alex@' is not an e-mail address.") == 2, button


def test_what_to_change_sets_its_colon_the_french_way(client, flow):
    """Found in a browser: "Modifications demandées par … , 2026-12-04:" lacked French's
    space before the colon that leads to the Nation's words."""
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="changes", comment="Ages?")
    sign_in(client, "researcher@example.org")
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = client.get(f"/requests/{ref}", headers=french).text
    reason = page.split('class="reason"')[1].split("<blockquote>")[0]
    assert "</time> :</p>" in reason, reason
    english = client.get(f"/requests/{ref}").text
    assert "</time>:</p>" in english.split('class="reason"')[1]
