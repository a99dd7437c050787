"""Invariant 9 for obligations: a Nation's assessment comment is its own (the
researcher reads it only when the Nation tells them); coordinators and the other
Nations read that an obligation exists, its due and its state, never what the Nation
asked, what was reported or what it said. Pages, the API (request and events)."""

from helpers import sign_in
from obligated import YEARLY

COMMENT = "Council found the attestation thin (fictional)."
TOLD = "Please attach the certificate next time (fictional)."
REPORT = "Destroyed and attested (fictional)."


def _comments(body: dict) -> dict:
    return {o["id"]: o for o in body["obligations"]}


def test_each_reader_reads_its_own_part_of_the_obligations(app, owed, api):
    ref = owed.active()
    owed.report("researcher", ref, "return_or_destroy", REPORT)
    owed.assess("cedar_steward1", ref, "return_or_destroy", "met", comment=COMMENT)
    owed.due_soon(ref, YEARLY)  # its report is taken now
    owed.report("researcher", ref, YEARLY, "The year's report.")
    owed.assess("cedar_rep", ref, YEARLY, "met", comment=TOLD, tell_researcher=True)
    end, yearly = owed.id(ref, "return_or_destroy"), owed.id(ref, YEARLY)

    views = {who: api.get(who, f"/requests/{ref}").get_json() for who in (
        "cedar_steward1", "cedar_rep", "researcher", "coordinator", "heron_rep", "heron_steward",
    )}  # fmt: skip
    for who in ("cedar_steward1", "cedar_rep"):
        mine = _comments(views[who])
        assert mine[end]["assessment_comment"] == COMMENT and mine[end]["report"] == REPORT
    researcher = _comments(views["researcher"])
    assert researcher[end]["report"] == REPORT and researcher[end]["state"] == "met"
    assert researcher[end]["assessment_comment"] is None, "kept to the Nation"
    assert researcher[yearly]["assessment_comment"] == TOLD, "the Nation told them"
    for who in ("coordinator", "heron_rep", "heron_steward"):
        theirs = _comments(views[who])
        assert theirs[end]["state"] == "met" and theirs[end]["text"] is None, who
        assert theirs[end]["report"] is None and theirs[end]["assessment_comment"] is None, who
        assert theirs[yearly]["assessment_comment"] is None, who
    heron = [o for o in views["heron_rep"]["obligations"] if o["nation"] == "blue-heron"]
    assert heron and all(o["text"] for o in heron), "a Nation reads its own obligations"

    for who in ("researcher", "coordinator", "heron_rep"):
        events = api.get(who, f"/requests/{ref}/events?limit=100").get_json()
        text = str(events)
        assert COMMENT not in text and TOLD not in text, who
    insider = str(api.get("cedar_rep", f"/requests/{ref}/events?limit=100").get_json())
    assert COMMENT in insider

    for email in ("researcher@example.org", "coordinator@example.org", "rep.heron@example.org"):
        client = app.test_client()
        sign_in(client, email)
        page = client.get(f"/requests/{ref}").text + client.get(f"/requests/{ref}/timeline").text
        assert COMMENT not in page, email
        if email != "researcher@example.org":
            assert REPORT not in page and TOLD not in page, email
    for slug, email in (("red-cedar", "rep.cedar@example.org"),):
        client = app.test_client()
        sign_in(client, email)
        for suffix in ("", ".csv"):
            assert client.get(f"/nations/{slug}/record{suffix}").status_code == 200
    client = app.test_client()
    sign_in(client, "rep.heron@example.org")
    for suffix in ("", ".csv", ".pdf"):
        answer = client.get(f"/nations/blue-heron/record{suffix}")
        assert answer.status_code == 200
        assert COMMENT.encode() not in answer.data and TOLD.encode() not in answer.data


def test_allowed_actions_name_each_obligation(owed, api):
    ref = owed.active()
    end = owed.id(ref, "return_or_destroy")
    researcher = api.get("researcher", f"/requests/{ref}").get_json()["allowed_actions"]
    reports = {a["obligation"] for a in researcher if a["action"] == "report_obligation"}
    # Not the yearly report (its window opens 30 days before it falls due), nor the
    # review of outputs before publication (met output by output): three of five.
    assert len(reports) == 3 and end in reports
    steward = api.get("cedar_steward1", f"/requests/{ref}").get_json()["allowed_actions"]
    assert not [a for a in steward if a["action"] == "assess_obligation"], "nothing reported"
    rep = api.get("cedar_rep", f"/requests/{ref}").get_json()["allowed_actions"]
    waivable = {a["obligation"] for a in rep if a["action"] == "assess_obligation"}
    assert end in waivable and len(waivable) == 3, "its own Nation's: waiving"

    assert (
        api.act("researcher", ref, "report_obligation", obligation=end, text=REPORT).status_code
        == 200
    )
    steward = api.get("cedar_steward1", f"/requests/{ref}").get_json()["allowed_actions"]
    assert [a["obligation"] for a in steward if a["action"] == "assess_obligation"] == [end]
    waive = api.act(
        "cedar_steward1", ref, "assess_obligation", obligation=end, outcome="waived", comment="x"
    )
    assert waive.status_code == 403
    assert (
        api.act("heron_rep", ref, "assess_obligation", obligation=end, outcome="met").status_code
        == 403
    )
    assert (
        api.act("other_researcher", ref, "report_obligation", obligation=end, text="x").status_code
        == 404
    )
    bad = api.act("cedar_rep", ref, "assess_obligation", obligation=end, outcome="not_met")
    assert bad.status_code == 422 and "comment" in bad.text
    done = api.act("cedar_steward1", ref, "assess_obligation", obligation=end, outcome="met")
    assert done.status_code == 200 and done.get_json()["status"] == "active"
    again = api.act("cedar_steward1", ref, "assess_obligation", obligation=end, outcome="met")
    assert again.status_code == 409
