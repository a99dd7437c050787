"""Pages for what only the API could do before: refusing after approval and revoking,
each with a reason and a confirmation; and a Nation whose eligible stewards can no
longer reach its quorum, shown to its own people (its representative with the way
out), and to no one else: it tells of conflicts of interest."""

import re

import pytest

from apis import Api
from flows import PEOPLE
from helpers import choose_french, csrf_token, sign_in

CEDAR = "Red Cedar Nation (fictional)"


def post(client, path: str, **fields):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token(page.text), **fields})


@pytest.mark.parametrize("heron_decided", [True, False])
def test_refusing_after_approval_needs_a_reason_and_a_confirmation(client, flow, heron_decided):
    """Also while the other Nation has yet to decide (found in a browser: the page then
    offered a Nation that had approved to "decide", and said approval was "not possible
    yet")."""
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    if heron_decided:
        flow.do("heron_rep", "decide", ref, "blue-heron")
    status = "awaiting_signatures" if heron_decided else "under_review"
    sign_in(client, "rep.cedar@example.org")
    show = client.get(f"/requests/{ref}").text
    assert f"Refuse for {CEDAR}" in show and f"Decide for {CEDAR}" not in show
    path = f"/requests/{ref}/decide/red-cedar"
    page = client.get(path).text
    assert f"{CEDAR} approved this revision" in page and "is not possible" not in page
    assert "Refusal is always possible, also after approval, until access begins." in page
    unconfirmed = post(client, path, outcome="refuse", reason="Community concerns.")
    assert unconfirmed.status_code == 422
    assert "Confirm the refusal: the request ends at once." in unconfirmed.text
    assert "Community concerns." in unconfirmed.text, "what was typed is kept"
    assert flow.status(ref) == status
    approving = post(client, path, outcome="approve", confirm_refusal="y")
    assert approving.status_code == 409 and flow.status(ref) == status
    done = post(client, path, outcome="refuse", reason="Community concerns.", confirm_refusal="y")
    assert done.status_code == 302 and flow.status(ref) == "refused"


def test_refusing_under_review_needs_a_confirmation(app, client, flow):
    """Found in a browser: approving after approval, revoking and closing early each ask
    to confirm, but a refusal under review ended the request at one click. It now asks
    too, on the page only (the API's decide takes what it always took)."""
    ref = flow.reviewed()
    sign_in(client, "rep.cedar@example.org")
    path = f"/requests/{ref}/decide/red-cedar"
    page = client.get(path).text
    assert 'name="confirm_refusal"' in page and 'value="approve"' in page
    assert "A refusal refuses the request as a whole." in page
    typed = {"reason": "Community concerns.", "custom_conditions": "Tell the council first"}
    unconfirmed = post(client, path, outcome="refuse", **typed)
    assert unconfirmed.status_code == 422
    assert "Confirm the refusal: it cannot be undone." in unconfirmed.text
    assert "Community concerns." in unconfirmed.text, "what was typed is kept"
    assert "Tell the council first</textarea>" in unconfirmed.text
    assert flow.status(ref) == "under_review"
    french = app.test_client()
    sign_in(french, "rep.cedar@example.org")
    choose_french(french)
    said = post(french, path, outcome="refuse", reason="Non.").text
    assert "Confirmez le refus : il est sans retour." in said
    assert flow.status(ref) == "under_review"
    done = post(client, path, outcome="refuse", confirm_refusal="y", **typed)
    assert done.status_code == 302 and flow.status(ref) == "refused"


def test_approving_under_review_asks_no_confirmation(client, flow):
    ref = flow.reviewed()
    sign_in(client, "rep.cedar@example.org")
    done = post(client, f"/requests/{ref}/decide/red-cedar", outcome="approve")
    assert done.status_code == 302


def test_revoking_needs_a_reason_and_a_confirmation(client, flow):
    ref = flow.approved()
    for who in ("researcher", "cedar_rep", "heron_rep"):
        flow.do(who, "sign", ref)
    path = f"/requests/{ref}/revoke/red-cedar"
    sign_in(client, "rep.cedar@example.org")
    assert f"Revoke for {CEDAR}" in client.get(f"/requests/{ref}").text
    no_reason = post(client, path, confirm="y")
    assert no_reason.status_code == 422 and "Give the reason for revoking." in no_reason.text
    unconfirmed = post(client, path, reason="Used beyond purpose.")
    assert "Confirm that access ends at once." in unconfirmed.text
    assert "Used beyond purpose." in unconfirmed.text
    assert flow.status(ref) == "active"
    done = post(client, path, reason="Used beyond purpose.", confirm="y")
    assert done.status_code == 302 and flow.status(ref) == "revoked"
    again = client.get(path)
    assert again.status_code == 409 and "it can be revoked only when it is active" in again.text


def test_only_the_nations_representative_opens_the_revoke_page(client, flow):
    ref = flow.approved()
    for email, status in (
        ("rep.heron@example.org", 403),  # another Nation's representative
        ("s1.cedar@example.org", 403),  # the Nation's steward
        ("coordinator@example.org", 403),
        ("researcher@example.org", 403),
        ("other@example.org", 404),  # may not know of the request
    ):
        sign_in(client, email)
        assert client.get(f"/requests/{ref}/revoke/red-cedar").status_code == status, email
        client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})


def stall_red_cedar(flow) -> str:
    """Red Cedar needs 2 reviews; two of its three stewards declare a conflict."""
    ref = flow.to_review()
    for steward in ("cedar_steward1", "cedar_steward2"):
        flow.do(steward, "review", ref, "red-cedar", conflict_of_interest=True)
    return ref


def test_a_stalled_quorum_is_shown_to_the_representative_with_the_way_out(client, flow):
    ref = stall_red_cedar(flow)
    sign_in(client, "rep.cedar@example.org")
    home = client.get("/").text
    assert "Reviews that cannot reach their quorum" in home and ref in home
    assert "/nations/red-cedar/profile" in home and "designate another steward" in home
    page = client.get(f"/requests/{ref}").text
    assert "eligible stewards can no longer reach its quorum" in page
    assert "Designate another steward" in page
    assert f"{CEDAR} cannot reach its quorum with its eligible stewards" in page


@pytest.mark.parametrize(
    "who",
    ["coordinator", "researcher", "heron_rep", "heron_steward", "admin"],
)
def test_a_stalled_quorum_is_the_nations_own(app, client, flow, who):
    """Whether a Nation's stewards can still reach its quorum tells of their conflicts of
    interest (invariant 9): with as many eligible stewards as the quorum, one conflict
    stalls it. Only the Nation's own people are told, on pages and in the API; anyone
    else reads that reviews are awaited (found by a probe of the demo)."""
    ref = stall_red_cedar(flow)
    email = PEOPLE[who][0]
    sign_in(client, email)
    home = client.get("/").text
    assert "Reviews that cannot reach their quorum" not in home
    page = client.get(f"/requests/{ref}")
    if page.status_code == 404:  # the administrator may not know of it at all
        assert who == "admin"
    else:
        assert "cannot reach its quorum" not in page.text
        assert "Waiting for 2 more Red Cedar" in page.text
    answer = Api(app).get(who, f"/requests/{ref}")
    if answer.status_code == 200:
        (cedar,) = [t for t in answer.get_json()["tracks"] if t["nation"] == "red-cedar"]
        assert cedar["stalled"] is None and cedar["reviews"] is None


def test_the_nations_other_steward_is_told_of_a_stalled_quorum(app, client, flow):
    ref = stall_red_cedar(flow)
    sign_in(client, "s3.cedar@example.org")
    assert "Reviews that cannot reach their quorum" in client.get("/").text
    assert f"{CEDAR} cannot reach its quorum" in client.get(f"/requests/{ref}").text
    answer = Api(app).get("cedar_steward3", f"/requests/{ref}").get_json()
    (cedar,) = [t for t in answer["tracks"] if t["nation"] == "red-cedar"]
    assert cedar["stalled"] is True


def test_one_steward_short_is_not_stalled_while_enough_can_still_review(client, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", conflict_of_interest=True)
    sign_in(client, "rep.cedar@example.org")
    assert "Reviews that cannot reach their quorum" not in client.get("/").text
    flow.do("cedar_steward2", "review", ref, "red-cedar", conflict_of_interest=True)
    assert "Reviews that cannot reach their quorum" in client.get("/").text


def test_a_new_steward_unstalls_the_quorum(app, client, flow, make_user):
    from portal.db import session_scope
    from portal.registry.service import get_nation
    from portal.workflow import profiles as profile

    ref = stall_red_cedar(flow)
    make_user("s4.cedar@example.org", "researcher")
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        rep = flow.user(session, "cedar_rep")
        profile.designate_steward(session, rep, nation, "s4.cedar@example.org")
    sign_in(client, "coordinator@example.org")
    assert "Reviews that cannot reach their quorum" not in client.get("/").text
    assert ref in client.get("/").text


def test_a_step_page_says_why_instead_of_the_form_when_it_is_not_theirs(client, flow):
    """The page asks the same check the form's POST would, on GET: who may not act
    reads why (in words), not a form that only fails when sent."""
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    review = f"/requests/{ref}/review/red-cedar"
    for email, status, why, form in (
        ("s1.cedar@example.org", 409, "You have already reviewed revision 1.", "Record my review"),
        ("coordinator@example.org", 403, "Only a steward of", "Record my review"),
        ("s.heron@example.org", 403, "Only a steward of", "Record my review"),
        ("other@example.org", 404, "nothing you may see", "Record my review"),
    ):
        sign_in(client, email)
        page = client.get(review)
        assert page.status_code == status, email
        assert why in page.text and form not in page.text, email
        client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    sign_in(client, "coordinator@example.org")
    screened = client.get(f"/requests/{ref}/screen")
    assert screened.status_code == 409 and "it can be screened only when" in screened.text
    assert "Record screening" not in screened.text
    assert "Nothing was changed." not in screened.text, "nothing was tried"
    decide = client.get(f"/requests/{ref}/decide/red-cedar")
    assert decide.status_code == 403 and "Only a representative of" in decide.text
    assert "decision</button>" not in decide.text
    revoke = client.get(f"/requests/{ref}/revoke/red-cedar")
    assert revoke.status_code == 403 and "Revoke for" not in revoke.text


def test_each_criterion_must_be_answered_and_the_representative_reads_the_answers(client, flow):
    from portal.reviews.forms import CRITERIA

    ref = flow.to_review()
    path = f"/requests/{ref}/review/red-cedar"
    sign_in(client, "s1.cedar@example.org")
    page = client.get(path).text
    assert "selected" not in page.split("Criteria")[1].split("Recommendation")[0], "no default"
    answers = {f"criterion_{key}": "met" for key in CRITERIA}
    skipped = {**answers, "criterion_benefit": "", "csrf_token": csrf_token(page)}
    refused = client.post(path, data={**skipped, "recommendation": "approve"})
    assert refused.status_code == 422
    named = f"Assess “{CRITERIA['benefit']}”: met, a concern or unclear."
    assert named in refused.text and 'href="#criterion_benefit"' in refused.text
    assert "Not a valid choice" not in refused.text
    assert flow.status(ref) == "under_review" and "Your review is recorded" not in refused.text
    answers["criterion_group_harm"] = "concern"
    done = post(client, path, **answers, recommendation="approve")
    assert done.status_code == 302
    flow.do("cedar_steward2", "review", ref, "red-cedar")  # by the API's way: no criteria
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    sign_in(client, "rep.cedar@example.org")
    decide = client.get(f"/requests/{ref}/decide/red-cedar").text
    group_harm = str(CRITERIA["group_harm"])
    assert f"{group_harm}: a concern" in decide and f"{CRITERIA['method']}: met" in decide
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    sign_in(client, "rep.heron@example.org")  # another Nation's representative
    for other in (f"/requests/{ref}/decide/blue-heron", f"/requests/{ref}"):
        assert group_harm not in client.get(other).text, other


def test_a_refusal_names_each_rule_once(client, flow):
    """Found in a browser: the "Not done" box gave the rules run together, then each
    again."""
    ref = flow.to_review()  # no review yet: neither the quorum nor the approvals
    sign_in(client, "rep.cedar@example.org")
    refused = post(client, f"/requests/{ref}/decide/red-cedar", outcome="approve")
    assert refused.status_code == 409
    box = re.search(r'<div class="refusal" role="alert">(.*?)</div>', refused.text, re.DOTALL)
    items = re.findall(r"<li>(.*?)</li>", box.group(1), re.DOTALL)
    assert len(items) >= 2 and len(set(items)) == len(items)
    assert all(box.group(1).count(item) == 1 for item in items)


def test_after_approval_the_decision_page_offers_refusal_only(client, flow):
    """Found in a browser: "Refuse for <Nation>" led to a page that still offered
    Approve and the conditions, and approving then failed with a 409. Once the Nation
    approved, the page offers refusal alone: the reason and the confirmation."""
    ref = flow.approved()
    sign_in(client, "rep.cedar@example.org")
    path = f"/requests/{ref}/decide/red-cedar"
    page = client.get(path).text
    start = page.index('<form method="post" class="form"')
    form = page[start : page.index("</form>", start)]
    assert 'value="approve"' not in form and 'name="standard_conditions"' not in form
    assert 'name="custom_conditions"' not in form
    assert '<input type="hidden" name="outcome" value="refuse">' in form
    assert 'name="reason"' in form and 'name="confirm_refusal"' in form
    assert f"Refuse for {CEDAR}</button>" in form
    # What the page sends: the reason and the confirmation, the outcome it holds.
    unconfirmed = post(client, path, outcome="refuse", reason="Community concerns.")
    assert unconfirmed.status_code == 422 and 'value="approve"' not in unconfirmed.text
    assert "Community concerns." in unconfirmed.text and flow.status(ref) == "awaiting_signatures"
    done = post(client, path, outcome="refuse", reason="Community concerns.", confirm_refusal="y")
    assert done.status_code == 302 and flow.status(ref) == "refused"


def test_a_refused_review_names_the_missing_comment_beside_the_missing_criteria(client, flow):
    """Found in a browser: a steward who chose "Refuse" with criteria unanswered and no
    comment was told of the criteria; once they were answered, a second answer asked for
    the comment. The first answer names both."""
    from portal.reviews.forms import CRITERIA

    ref = flow.to_review()
    path = f"/requests/{ref}/review/red-cedar"
    sign_in(client, "s1.cedar@example.org")
    page = client.get(path).text
    answers = {f"criterion_{key}": "met" for key in CRITERIA}
    for recommendation in ("refuse", "changes"):
        skipped = {**answers, "criterion_benefit": "", "csrf_token": csrf_token(page)}
        refused = client.post(path, data={**skipped, "recommendation": recommendation})
        assert refused.status_code == 422
        assert f"Assess “{CRITERIA['benefit']}”" in refused.text
        assert "Explain the recommendation in the comment." in refused.text, recommendation
        assert 'href="#comment"' in refused.text, "the summary links to the field"
    approving = client.post(path, data={**skipped, "recommendation": "approve"})
    assert "Explain the recommendation" not in approving.text, "approval needs no comment"
    assert flow.status(ref) == "under_review"


def test_the_french_decision_page_sets_its_colons_and_reads_the_criteria_in_order(client, flow):
    """Found in a browser: in French, "Morgan Steward: recommande l'approbation" and
    "Solidité de la méthode: satisfait" lacked French's space before a colon, and the
    criteria came in the order of their keys, not the order the steward answered them."""
    from html import unescape

    from portal.reviews.forms import CRITERIA

    ref = flow.to_review()
    sign_in(client, "s1.cedar@example.org")
    path = f"/requests/{ref}/review/red-cedar"
    answers = {f"criterion_{key}": "met" for key in CRITERIA}
    assert post(client, path, **answers, recommendation="approve").status_code == 302
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    sign_in(client, "rep.cedar@example.org")
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = unescape(client.get(f"/requests/{ref}/decide/red-cedar", headers=french).text)
    criteria = page.split('class="criteria"')[1].split("</ul>")[0]
    assert criteria.count(" : satisfait") == len(CRITERIA) and "e: satisfait" not in criteria
    steward_line = page.split('id="reviews-h"')[1].split('class="criteria"')[0]
    assert " : <strong>" in steward_line.split("<li>")[1], "the name, ' : ', the recommendation"
    assert criteria.index("Besoin raisonnable") < criteria.index("Avantages pour la Nation")


REFUSING = (
    f"Refusing withdraws {CEDAR}'s approval: the request is refused as a whole, "
    "for every Nation, and no agreement takes effect."
)
REVOKING = (
    "Revoking also ends the request for every Nation before access begins, as refusing "
    f"does; the record says that {CEDAR} revoked its approval, and the agreement is "
    "marked revoked rather than void."
)


def test_while_signatures_are_awaited_refuse_and_revoke_each_say_what_they_end(app, flow):
    """Found in a browser: while the agreement awaited signatures the representative's
    request page offered both "Refuse" and "Revoke", with nothing saying how they
    differ. Each says, beside it, what it ends in that state (both end the request for
    every Nation; the record and the agreement say refused or revoked), on the page that
    confirms it too (the revoke page spoke of returning data that was never released);
    and each still works."""
    refused_ref, revoked_ref = flow.approved(), flow.approved()
    sign_in(client := app.test_client(), "rep.cedar@example.org")
    show = client.get(f"/requests/{refused_ref}").text
    assert f"Refuse for {CEDAR}" in show and f"Revoke for {CEDAR}" in show
    assert REFUSING in show and REVOKING in show
    assert 'aria-describedby="revoke-red-cedar"' in show and 'id="revoke-red-cedar"' in show
    # Both end the request: both look like it (a walk found Refuse drawn as Sign is).
    refuse = re.search(r'<a class="([^"]*)"[^>]*>Refuse for', show)
    assert refuse and "danger" in refuse.group(1).split()
    assert REFUSING in client.get(f"/requests/{refused_ref}/decide/red-cedar").text
    revoke_page = client.get(f"/requests/{revoked_ref}/revoke/red-cedar").text
    assert REVOKING in revoke_page and "return or destroy" not in revoke_page

    french = app.test_client()
    sign_in(french, "rep.cedar@example.org")
    choose_french(french)
    shown = french.get(f"/requests/{refused_ref}").text
    assert "met aussi fin à la demande pour toutes les Nations avant" in shown

    path = f"/requests/{refused_ref}/decide/red-cedar"
    done = post(client, path, outcome="refuse", reason="Community concerns.", confirm_refusal="y")
    assert done.status_code == 302 and flow.status(refused_ref) == "refused"
    path = f"/requests/{revoked_ref}/revoke/red-cedar"
    done = post(client, path, reason="Community concerns.", confirm="y")
    assert done.status_code == 302 and flow.status(revoked_ref) == "revoked"


def test_before_access_the_revoke_page_speaks_of_the_request_not_of_access(app, flow):
    """Found in a browser: while the agreement awaited signatures the revoke page's
    heading said "Revoke access", its box to tick "access ends at once", and its answer
    "access has ended", for access that never began (beside a panel saying "before
    access begins"). Before access each speaks of the request ending; once active the
    words about access stay (test_revoking_needs_a_reason_and_a_confirmation)."""
    ref = flow.approved()
    sign_in(client := app.test_client(), "rep.cedar@example.org")
    path = f"/requests/{ref}/revoke/red-cedar"
    page = client.get(path).text
    assert f"Revoke the approval of {CEDAR}" in page and "Revoke access" not in page
    assert "access ends at once" not in page
    assert "I understand that the request ends for every Nation and cannot be " in page
    unconfirmed = post(client, path, reason="Community concerns.")
    assert "Confirm that the request ends for every Nation." in unconfirmed.text
    assert "access ends at once" not in unconfirmed.text
    done = post(client, path, reason="Community concerns.", confirm="y")
    assert done.status_code == 302 and flow.status(ref) == "revoked"
    told = client.get(done.headers["Location"]).text
    assert f"Revoked for {CEDAR}: the request has ended." in told
    assert "access has ended" not in told

    sign_in(french := app.test_client(), "rep.cedar@example.org")
    choose_french(french)  # the language is the person's own, so it comes last
    in_french = french.get(f"/requests/{flow.approved()}/revoke/red-cedar").text
    assert "Révoquer l’approbation de" in in_french
    assert "la demande prend fin pour toutes les Nations" in in_french


def test_once_access_began_revoking_says_the_data_is_returned_or_destroyed(client, flow):
    ref = flow.active()
    sign_in(client, "rep.cedar@example.org")
    show = client.get(f"/requests/{ref}").text
    assert f"Refuse for {CEDAR}" not in show and REVOKING not in show
    assert (
        "Revoking ends access at once for the whole request: the researcher must stop "
        "using the data and return or destroy it."
    ) in show


def test_the_french_review_form_offers_the_words_its_refusal_and_the_decision_use(client, flow):
    """Found in a browser: in French a criterion's options read « Respectée », while the
    refusal of an unanswered criterion asks for « satisfait, une préoccupation ou
    incertain » and the decision page reads « satisfait »: the steward was told to pick
    an option the form did not offer. The option is « Satisfait » (an obligation met
    stays « Respectée »)."""
    from html import unescape

    ref = flow.to_review()
    sign_in(client, "s1.cedar@example.org")
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    path = f"/requests/{ref}/review/red-cedar"
    page = unescape(client.get(path, headers=french).text)
    options = page.split('name="criterion_benefit"')[1].split("</select>")[0]
    assert ">Satisfait</option>" in options and "Respectée" not in options
    refused = unescape(
        client.post(
            path,
            headers=french,
            data={
                "csrf_token": csrf_token(page),
                "revision": "1",
                "recommendation": "approve",
            },
        ).text
    )
    assert "satisfait, une préoccupation ou incertain" in refused
