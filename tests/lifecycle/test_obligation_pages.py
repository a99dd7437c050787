"""The obligation pages: the researcher reports, the Nation's people assess (its
representative alone may waive), each from the request page's obligations section;
overdue obligations on the home pages and in the Nation's record."""

from datetime import date, timedelta

import pytest

from portal.errors import Refused

from helpers import choose_french, csrf_token, labels_on_lists, sign_in
from obligated import KESTREL_STEWARD, YEARLY

CEDAR = "Red Cedar Nation (fictional)"
EMAIL = {
    "researcher": "researcher@example.org",
    "coordinator": "coordinator@example.org",
    "cedar_steward1": "s1.cedar@example.org",
    "cedar_rep": "rep.cedar@example.org",
    "heron_rep": "rep.heron@example.org",
    "heron_steward": "s.heron@example.org",
    "kestrel": KESTREL_STEWARD,
}


def client_of(app, who: str):
    client = app.test_client()
    sign_in(client, EMAIL[who])
    return client


def post(client, path: str, **fields):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token(page.text), **fields})


def test_report_and_assess_through_the_pages(app, owed):
    ref = owed.active()
    key = owed.id(ref, "return_or_destroy")
    researcher = client_of(app, "researcher")
    show = researcher.get(f"/requests/{ref}").text
    assert "Obligations" in show and f"/obligations/{key}/report" in show
    report = f"/requests/{ref}/obligations/{key}/report"
    empty = post(researcher, report, text="")
    assert empty.status_code == 422 and "Say what was done" in empty.text
    done = post(researcher, report, text="Destroyed on the approved server.")
    assert done.status_code == 302
    again = researcher.get(report)
    assert again.status_code == 409 and "nothing to report now" in again.text

    steward = client_of(app, "cedar_steward1")
    assert f"/obligations/{key}/assess" in steward.get(f"/requests/{ref}").text
    assess = f"/requests/{ref}/obligations/{key}/assess"
    page = steward.get(assess).text
    assert "Destroyed on the approved server." in page and 'value="waived"' not in page
    assert labels_on_lists(page) == [] and "<legend>Outcome</legend>" in page
    waived = post(steward, assess, outcome="waived", comment="Let go.")
    assert waived.status_code == 422, "not a choice a steward is offered"
    missing = post(steward, assess, outcome="not_met", comment="")
    assert missing.status_code == 422 and "Say why" in missing.text
    met = post(steward, assess, outcome="met", comment="Attestation read in council.")
    assert met.status_code == 302
    assert owed.obligations(ref)["return_or_destroy"].state == "met"
    assert owed.flow.status(ref) == "active"


def test_only_the_representative_is_offered_waiving(app, owed):
    ref = owed.active()
    key = owed.id(ref, "community_output_review")
    path = f"/requests/{ref}/obligations/{key}/assess"
    # A steward may assess, once something is reported: that is what stops them (409),
    # not that waiving is the representative's.
    steward = client_of(app, "cedar_steward1").get(path)
    assert (
        steward.status_code == 409 and "Nothing is reported on this obligation yet" in steward.text
    )
    assert "may waive" not in steward.text
    assert "waived" not in steward.text, "waiving is not a step the steward is offered"
    assert "until the researcher reports on it" in steward.text
    french = client_of(app, "cedar_steward1").get(path, headers={"Accept-Language": "fr-CA"})
    assert "renoncer" not in french.text and "tant que la chercheuse ou le chercheur" in french.text
    # Whom the policy lets waive is told that this is what may be done instead.
    with pytest.raises(Refused, match="it can be waived, not assessed"):
        owed.assess("cedar_rep", ref, "community_output_review", "met")
    assert client_of(app, "heron_rep").get(path).status_code == 403
    assert client_of(app, "researcher").get(path).status_code == 403
    assert client_of(app, "kestrel").get(path).status_code == 404
    rep = client_of(app, "cedar_rep")
    assert "Waive it for" in rep.get(f"/requests/{ref}").text
    done = post(rep, path, outcome="waived", comment="Reviewed at the last gathering.")
    assert done.status_code == 302
    assert owed.obligations(ref)["community_output_review"].state == "waived"


def test_overdue_obligations_on_the_home_pages_and_the_record(app, owed):
    ref = owed.active()
    owed.set_due(ref, YEARLY, date.today() - timedelta(days=3))
    shown = {who: client_of(app, who).get("/").text for who in EMAIL}
    for who in ("researcher", "coordinator", "cedar_steward1", "cedar_rep"):
        assert "Overdue obligations" in shown[who] and ref in shown[who], who
    for who in ("heron_rep", "heron_steward", "kestrel"):
        assert "Overdue obligations" not in shown[who], who
    assert YEARLY not in shown["coordinator"], "the coordinators read the state only"
    record = client_of(app, "cedar_rep").get("/nations/red-cedar/record").text
    assert "that are overdue" in record and ref in record
    heron = client_of(app, "heron_rep").get("/nations/blue-heron/record").text
    assert "that are overdue" not in heron
    queue = shown["researcher"]
    assert "Obligations to report on" in queue
    owed.report("researcher", ref, YEARLY, "The year's report.")
    assert "Overdue obligations" not in client_of(app, "coordinator").get("/").text
    assert "Obligation reports to assess" in client_of(app, "cedar_steward1").get("/").text


def test_the_decide_page_takes_a_due_for_the_nations_own_words(app, owed):
    flow = owed.flow
    ref = flow.reviewed()
    rep = client_of(app, "cedar_rep")
    path = f"/requests/{ref}/decide/red-cedar"
    wrong = post(rep, path, outcome="approve", custom_conditions="Tell us | due: someday")
    assert wrong.status_code == 422 and "is not a due date" in wrong.text
    assert "Tell us | due: someday" in wrong.text, "what was typed is kept"
    lines = "Report to the council | due: every 6 months\nA summary for the community"
    done = post(rep, path, outcome="approve", custom_conditions=lines)
    assert done.status_code == 302
    flow.do("heron_rep", "decide", ref, "blue-heron")
    for who in ("researcher", "cedar_rep", "heron_rep"):
        flow.do(who, "sign", ref)
    found = owed.obligations(ref)
    assert found["Report to the council"].period_months == 6
    assert found["A summary for the community"].due_event == "at_end"


def test_an_obligations_page_reads_a_standard_condition_in_french(app, owed):
    """Found in a browser: the request page said what the Nation asked in French, the
    obligation's report page in English (it printed the stored text)."""
    ref = owed.active()
    key = owed.id(ref, "return_or_destroy")
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = client_of(app, "researcher").get(
        f"/requests/{ref}/obligations/{key}/report", headers=french
    )
    assert page.status_code == 200
    assert "Les données sont restituées ou détruites à la fin de la durée" in page.text
    assert "The data is returned or destroyed" not in page.text


def test_a_steward_opening_assess_after_the_request_closed_reads_that_it_is_closed(app, owed):
    """Found in a browser: a steward following the e-mail's "Assess it" link after the
    request closed read a 403 "Only a representative ... may waive an obligation owed
    to it": they may assess, and what stops them is the request's state (409)."""
    ref = owed.active()
    reported = owed.id(ref, YEARLY)
    owed.due_soon(ref, YEARLY)  # its report is taken now
    owed.report("researcher", ref, YEARLY)
    unreported = owed.id(ref, "return_or_destroy")
    flow = owed.flow
    flow.do("researcher", "close", ref)
    flow.do("researcher", "attest_destruction", ref)
    flow.do("cedar_rep", "acknowledge_destruction", ref, "red-cedar")
    flow.do("heron_rep", "acknowledge_destruction", ref, "blue-heron")
    assert flow.status(ref) == "closed"
    steward = client_of(app, "cedar_steward1")
    for key in (reported, unreported):
        page = steward.get(f"/requests/{ref}/obligations/{key}/assess")
        assert page.status_code == 409, key
        assert "This request is closed: it can be assessed only when" in page.text, key
        assert "may waive" not in page.text and "Record the assessment" not in page.text, key
    # Who may not assess at all is still told so (403), the state aside.
    researcher = client_of(app, "researcher").get(f"/requests/{ref}/obligations/{reported}/assess")
    assert researcher.status_code == 403


def test_the_record_and_the_timeline_read_standard_conditions_in_french(app, owed):
    """Found in a browser: the request page said a Nation's standard conditions in
    French, its record and the request's timeline as stored (English)."""
    ref = owed.active()
    rep = client_of(app, "cedar_rep")
    choose_french(rep)
    french = "Les données sont restituées ou détruites à la fin de la durée"
    for path in ("/nations/red-cedar/record", f"/requests/{ref}/timeline", f"/requests/{ref}"):
        page = rep.get(path)
        assert page.status_code == 200, path
        assert french in page.text, path
        assert "The data is returned or destroyed" not in page.text, path
        assert YEARLY in page.text, f"{path}: the Nation's own words stay as decided"


def _obligation_item(html: str, key: int) -> str:
    """The text of one obligation on the request page (tags dropped), links kept."""
    import re
    from html import unescape

    start = html.index(f'id="obligation-{key}"')
    item = html[start : html.index("</li>", html.index("<p>", start))]
    hrefs = " ".join(re.findall(r'href="([^"]+)"', item))
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()) + " " + hrefs


def test_outputs_reviewed_before_publication_is_met_by_each_output_review(app, owed, api):
    """Found in a browser: Red Cedar's "outputs reviewed before publication" stayed an
    open obligation awaiting a report, beside the outputs it governs: the researcher
    could not tell what report was owed. None is: it is met by submitting each output
    for the Nation's review, which publication waits for."""
    import pytest

    from portal.errors import Refused
    from portal.workflow import commands as c

    ref = owed.active()
    key = owed.id(ref, "community_output_review")
    researcher = client_of(app, "researcher")
    page = researcher.get(f"/requests/{ref}").text
    item = _obligation_item(page, key)
    assert f"/obligations/{key}/report" not in item, "no report is owed on it"
    assert "Open" not in item
    assert "Met by submitting each output for Red Cedar Nation (fictional)'s review" in item
    assert "No output submitted for its review yet." in item
    # The other three due at the end (the yearly one waits for its window).
    assert "You report on 3 obligations of this request" in page
    with pytest.raises(Refused) as refused:
        owed.report("researcher", ref, "community_output_review")
    assert [rule.rule for rule in refused.value.blocked_by] == ["output_review"]
    assert researcher.get(f"/requests/{ref}/obligations/{key}/report").status_code == 409
    table = b"region,count\nNorth,120\nSouth,240\n"
    owed.flow.perform("researcher", ref, c.SubmitOutput("Table 1", "A journal", "t.csv", table))
    item = _obligation_item(researcher.get(f"/requests/{ref}").text, key)
    assert "Table 1 : Its stewards are reviewing" in item and "/outputs/" in item
    body = api.get("researcher", f"/requests/{ref}").json  # the API's shape and states stay
    offered = {
        a.get("obligation") for a in body["allowed_actions"] if a["action"] == "report_obligation"
    }
    assert key not in offered and owed.obligations(ref)["community_output_review"].state == "open"
    # The rule stands: the output waits for Red Cedar's review before publication.
    assert (
        "Red Cedar Nation (fictional): Its stewards are reviewing"
        in researcher.get(f"/requests/{ref}").text
    )
