"""Outputs before publication on the pages and the API: submitting a file (multipart on
the page, base64 in the API), checking its small cells first, reviewing and deciding on
the output's page, downloading it, and invariant 9: each Nation's reviews of an output
are its own people's; the researcher reads the decision and its reasons."""

import base64
import io

from sqlmodel import func, select

from portal.db import session_scope
from portal.lifecycle.outputs.models import ResearchOutput
from portal.workflow import commands as c

from apis import Api
from helpers import csrf_token, sign_in

CSV = b"Region,Girls,Boys,Total\nNorth,12,3,15\nSouth,20,25,45\nTotal,32,28,60\n"
CEDAR, HERON = "red-cedar", "blue-heron"
CEDAR_NAME = "Red Cedar Nation (fictional)"


def signed_in(app, who_email: str):
    client = app.test_client()
    assert sign_in(client, who_email).status_code == 302
    return client


def form_token(client, path: str) -> str:
    return csrf_token(client.get(path).text)


def latest_output(app) -> int:
    with app.app_context(), session_scope() as session:
        return session.exec(select(func.max(ResearchOutput.id))).one()


def test_the_researcher_checks_then_submits_a_file_on_the_page(app, flow):
    ref = flow.active()
    client = signed_in(app, "researcher@example.org")
    page = client.get(f"/requests/{ref}").text
    assert "Submit an output for review" in page
    new = f"/requests/{ref}/outputs/new"
    token = form_token(client, new)

    def post(intent, data=CSV, name="table.csv", **fields):
        body = {"title": "Table 1", "venue": "A fictional journal", "csrf_token": token}
        body |= {"intent": intent, "file": (io.BytesIO(data), name), **fields}
        return client.post(new, data=body, content_type="multipart/form-data")

    checked = post("check")
    assert checked.status_code == 200 and "North × Boys: 3" in checked.text
    assert "the only small cell in row “North”, which has a total" in checked.text
    assert latest_output(app) is None, "checking keeps nothing"

    wrong = post("submit", b"%PDF-1.7\n%%EOF\n", "table.csv")
    assert wrong.status_code == 422
    assert "The file is named .csv but its content is a PDF." in wrong.text
    assert 'value="A fictional journal"' in wrong.text, "what was typed is kept"
    untitled = post("submit", title="")
    assert untitled.status_code == 422 and "The title is empty." in untitled.text
    assert untitled.text.count("There is a problem") == 1, "one summary (a browser saw two)"
    long_name = post("submit", name="t" * 300 + ".csv")
    assert long_name.status_code == 422 and "at most 255 characters" in long_name.text
    assert latest_output(app) is None

    done = post("submit")
    assert done.status_code == 302
    out = latest_output(app)
    shown = client.get(f"/requests/{ref}/outputs/{out}").text
    assert "Table 1" in shown and "In review" in shown and "North × Boys: 3" in shown
    file = client.get(f"/requests/{ref}/outputs/{out}/file")
    assert file.status_code == 200 and file.data == CSV
    assert 'filename="table.csv"' in file.headers["Content-Disposition"]


def test_stewards_review_and_the_representative_decides_on_the_outputs_page(app, flow):
    ref = flow.active()
    flow.perform("researcher", ref, c.SubmitOutput("T", "V", "t.csv", CSV))
    out = latest_output(app)
    path = f"/requests/{ref}/outputs/{out}"
    steward = signed_in(app, "s.heron@example.org")
    page = steward.get(path).text
    assert "Review for Blue Heron" in page and "Decide for" not in page
    token = csrf_token(page)
    review = f"{path}/review/{HERON}"
    missing = steward.post(review, data={"csrf_token": token, "recommendation": "refuse"})
    assert missing.status_code == 422 and "Explain the recommendation" in missing.text
    assert (
        steward.post(review, data={"csrf_token": token, "recommendation": "approve"}).status_code
        == 302
    )
    again = steward.post(review, data={"csrf_token": token, "recommendation": "approve"})
    assert again.status_code == 409 and "You have already reviewed this output." in again.text

    rep = signed_in(app, "rep.heron@example.org")
    token = csrf_token(rep.get(path).text)
    decided = rep.post(f"{path}/decide/{HERON}", data={"csrf_token": token, "outcome": "approve"})
    assert decided.status_code == 302
    assert "Approved publication" in rep.get(path).text
    cedar_rep = signed_in(app, "rep.cedar@example.org")
    token = csrf_token(cedar_rep.get(path).text)
    early = cedar_rep.post(
        f"{path}/decide/{CEDAR}", data={"csrf_token": token, "outcome": "approve"}
    )
    assert early.status_code == 409 and "requires 2 steward reviews of this output" in early.text


SECRETS = {
    "cedar_comment": "Cedar sentinel O1: the boys of North are known",
    "heron_comment": "Heron sentinel O3: fine by us",
}
CEDAR_REASON = "Cedar sentinel O2: suppress North first"


def test_each_nations_output_reviews_are_its_own_and_the_researcher_reads_the_reasons(app, flow):
    ref = flow.active()
    flow.perform("researcher", ref, c.SubmitOutput("T", "V", "t.csv", CSV))
    out = latest_output(app)
    flow.perform(
        "cedar_steward1", ref,
        c.ReviewOutput(out, CEDAR, "refuse", SECRETS["cedar_comment"]),
    )  # fmt: skip
    flow.perform(
        "heron_steward", ref, c.ReviewOutput(out, HERON, "approve", SECRETS["heron_comment"])
    )
    flow.perform("cedar_rep", ref, c.DecideOutput(out, CEDAR, "refuse", CEDAR_REASON))
    api = Api(app)
    reads = {
        "researcher": {CEDAR_REASON},
        "coordinator": set(),
        "heron_steward": {SECRETS["heron_comment"]},
        "cedar_steward2": {SECRETS["cedar_comment"], CEDAR_REASON},
        "cedar_rep": {SECRETS["cedar_comment"], CEDAR_REASON},
    }
    emails = {
        "researcher": "researcher@example.org",
        "coordinator": "coordinator@example.org",
        "heron_steward": "s.heron@example.org",
        "cedar_steward2": "s2.cedar@example.org",
        "cedar_rep": "rep.cedar@example.org",
    }
    everything = {*SECRETS.values(), CEDAR_REASON}
    for who, allowed in reads.items():
        client = signed_in(app, emails[who])
        texts = {
            "output page": client.get(f"/requests/{ref}/outputs/{out}").text,
            "request page": client.get(f"/requests/{ref}").text,
            "timeline": client.get(f"/requests/{ref}/timeline").text,
            "api request": api.get(who, f"/requests/{ref}").get_data(as_text=True),
            "api events": api.get(who, f"/requests/{ref}/events").get_data(as_text=True),
        }
        for where, text in texts.items():
            shown = {s for s in everything if s in text}
            assert shown <= allowed, f"{who} reads {shown - allowed} on the {where}"
        assert allowed <= {s for s in everything if s in texts["output page"]}, who
    assert (
        "Publication refused"
        in signed_in(app, emails["researcher"]).get(f"/requests/{ref}/outputs/{out}").text
    )


def test_the_file_is_the_requesting_sides_and_the_nations_not_the_coordinators(app, flow):
    ref = flow.active()
    flow.perform("researcher", ref, c.SubmitOutput("T", "V", "t.csv", CSV))
    out = latest_output(app)
    file = f"/requests/{ref}/outputs/{out}/file"
    for email, expected in (
        ("researcher@example.org", 200),
        ("s.heron@example.org", 200),
        ("rep.cedar@example.org", 200),
        ("coordinator@example.org", 404),
        ("other@example.org", 404),
    ):
        assert signed_in(app, email).get(file).status_code == expected, email
    api = Api(app)
    assert api.get("coordinator", f"/requests/{ref}/outputs/{out}/file").status_code == 404
    got = api.get("heron_steward", f"/requests/{ref}/outputs/{out}/file")
    assert got.status_code == 200 and got.data == CSV
    assert (
        signed_in(app, "coordinator@example.org").get(f"/requests/{ref}/outputs/{out}").status_code
        == 200
    )


def test_the_api_takes_the_file_in_base64_and_offers_the_next_steps(app, flow):
    ref = flow.active()
    api = Api(app)
    body = {"title": "T", "venue": "V", "filename": "t.csv"}
    bad = api.act("researcher", ref, "submit_output", **body, content_base64="not base64!")
    assert bad.status_code == 422 and "content_base64" in bad.get_data(as_text=True)
    pdf_as_csv = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()
    wrong = api.act("researcher", ref, "submit_output", **body, content_base64=pdf_as_csv)
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.get_json()["errors"]] == ["file"]
    app.config["OUTPUT_MAX_BYTES"] = 100
    over = base64.b64encode(b"a,b\n" * 1000).decode()
    refused = api.act("researcher", ref, "submit_output", **body, content_base64=over)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["message"] == (
        "The file is 4 KB; an output may be at most 100 bytes."
    )
    too_big = base64.b64encode(b"a,b\n" * 30000).decode()
    refused = api.act("researcher", ref, "submit_output", **body, content_base64=too_big)
    assert refused.status_code == 413, "a body larger than any allowed output is not read"
    app.config["OUTPUT_MAX_BYTES"] = 10 * 1024 * 1024
    done = api.act(
        "researcher", ref, "submit_output", **body, content_base64=base64.b64encode(CSV).decode()
    )
    assert done.status_code == 200
    (listed,) = done.get_json()["outputs"]
    assert listed["media_type"] == "text/csv" and listed["status"] == "in_review"
    assert [n["nation"] for n in listed["nations"]] == [HERON, CEDAR]
    assert listed["nations"][0]["reviews_counted"] is None, "the researcher reads no tally"

    seen = api.get("heron_steward", f"/requests/{ref}").get_json()
    offered = {(a["action"], a["nation"]) for a in seen["allowed_actions"]}
    assert ("review_output", HERON) in offered
    reviewed = api.act(
        "heron_steward",
        ref,
        "review_output",
        output=listed["id"],
        nation=HERON,
        recommendation="approve",
    )
    assert reviewed.status_code == 200
    rep = api.get("heron_rep", f"/requests/{ref}").get_json()
    assert ("decide_output", HERON) in {(a["action"], a["nation"]) for a in rep["allowed_actions"]}
    decided = api.act(
        "heron_rep", ref, "decide_output", output=listed["id"], nation=HERON, outcome="approve"
    )
    assert decided.get_json()["outputs"][0]["nations"][0]["status"] == "approved"
    researcher = api.get("researcher", f"/requests/{ref}").get_json()
    assert ("submit_output", None) in {
        (a["action"], a["nation"]) for a in researcher["allowed_actions"]
    }


def test_the_forms_follow_each_output_and_the_nations_record_lists_the_steps(app, flow):
    ref = flow.active()
    flow.perform("researcher", ref, c.SubmitOutput("First", "V", "a.csv", CSV))
    first = latest_output(app)
    flow.perform("heron_steward", ref, c.ReviewOutput(first, HERON, "approve"))
    flow.perform("researcher", ref, c.SubmitOutput("Second", "V", "b.csv", CSV))
    second = latest_output(app)
    steward = signed_in(app, "s.heron@example.org")
    assert "Review for Blue Heron" not in steward.get(f"/requests/{ref}/outputs/{first}").text
    assert "Review for Blue Heron" in steward.get(f"/requests/{ref}/outputs/{second}").text
    record = signed_in(app, "rep.heron@example.org").get("/nations/blue-heron/record").text
    assert "Output submitted for review before publication" in record
    assert "Steward review of an output recorded" in record


def test_an_outputs_page_speaks_french_to_a_french_reader(app, flow):
    ref = flow.active()
    flow.perform("researcher", ref, c.SubmitOutput("T", "V", "t.csv", CSV))
    path = f"/requests/{ref}/outputs/{latest_output(app)}"
    steward = signed_in(app, "s.heron@example.org")
    steward.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA,fr;q=0.9"
    page = steward.get(path).text
    assert '<html lang="fr-CA">' in page
    assert "État : <strong>En examen</strong>" in page
    assert "Examiner pour Blue Heron" in page and "Enregistrer l’examen" in page
    assert "Approuver la publication" in page  # the form's choices
    assert "la seule petite cellule de la ligne « North », qui a un total" in page
    # French sets a space before a colon, in the small cells' findings too.
    assert "North × Boys : 3" in page and "North × Boys : la seule petite cellule" in page
    assert "Boys: " not in page
    assert "Review for" not in page and "In review" not in page
    request_page = steward.get(f"/requests/{ref}").text
    assert "Extrants avant publication" in request_page
    assert "(V) : En examen" in request_page and "Blue Heron Métis (fictional) : " in request_page
