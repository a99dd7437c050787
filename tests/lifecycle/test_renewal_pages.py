"""Renewal and amendment through the pages and the API, and when they are refused:
only the researcher, only from an active request whose term runs, one at a time;
a refusal writes nothing. SQLite and PostgreSQL (TEST_DATABASE_URL)."""

import pytest
from sqlmodel import func, select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Forbidden, NotFound, Refused

from apis import problem
from flows import COMPLETE
from helpers import csrf_token, sign_in
from renewals import amendment, events

REASON = "Another year to finish the analysis (fictional)."


def client_of(app, email: str):
    client = app.test_client()
    sign_in(client, email)
    return client


def written(app) -> int:
    with app.app_context(), session_scope() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def refusal(flow, who: str, action: str, ref: str) -> Refused | Forbidden:
    before = written(flow.app)
    with pytest.raises((Refused, Forbidden)) as raised:
        flow.do(who, action, ref)
    assert written(flow.app) == before, "a refused action writes nothing"
    return raised.value


@pytest.mark.parametrize("action", ["renew", "amend"])
def test_only_an_active_request_with_none_open_is_renewed_or_amended(app, flow, action):
    draft = flow.draft()
    refused = refusal(flow, "researcher", action, draft)
    assert [r.rule for r in refused.blocked_by] == ["state"]
    assert refused.message.startswith("This request is draft:")
    under_review = flow.to_review()
    assert [r.rule for r in refusal(flow, "researcher", action, under_review).blocked_by] == [
        "state"
    ]
    active = flow.active()
    with pytest.raises(NotFound):  # another researcher may not know of it
        flow.do("other_researcher", action, active)
    assert isinstance(refusal(flow, "coordinator", action, active), Forbidden)
    assert isinstance(refusal(flow, "cedar_rep", action, active), Forbidden)
    assert flow.do("researcher", action, active) == "active"
    again = refusal(flow, "researcher", "renew" if action == "amend" else "amend", active)
    assert [r.rule for r in again.blocked_by] == ["amendment_in_progress"]
    assert amendment(app, active)[1] == "draft"


def test_closed_early_or_past_its_term_it_is_not_renewed(app, flow):
    closed = flow.ended()
    assert [r.rule for r in refusal(flow, "researcher", "renew", closed).blocked_by] == ["state"]
    ref = flow.active()
    from datetime import date

    from portal.agreements import service as agreements

    from renewals import request_of

    with app.app_context(), session_scope() as session:  # the term ends today
        agreement = agreements.current(session, request_of(session, ref))
        agreement.term_start = agreement.term_end = date.today()
        session.add(agreement)
    assert [r.rule for r in refusal(flow, "researcher", "renew", ref).blocked_by] == ["term"]


def test_renew_through_the_pages_then_edit_and_submit(app, flow):
    ref = flow.active()
    researcher = client_of(app, "researcher@example.org")
    page = researcher.get(f"/requests/{ref}").text
    assert "Renew this request" in page and "Amend this request" in page
    token = csrf_token(page)
    before = written(app)
    empty = researcher.post(f"/requests/{ref}/renew", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422 and "Say what the renewal or amendment is for." in empty.text
    assert 'href="#renew-reason"' in empty.text and written(app) == before
    assert researcher.post(f"/requests/{ref}/renew", data={"reason": REASON}).status_code == 400
    opened = researcher.post(f"/requests/{ref}/renew", data={"csrf_token": token, "reason": REASON})
    assert opened.status_code == 302 and opened.headers["Location"] == f"/requests/{ref}/edit"
    assert amendment(app, ref) == ("active", "draft", "renew")
    assert events(app, ref)[-1].details == {"what": "renew", "reason": REASON}
    edit = researcher.get(f"/requests/{ref}/edit")
    assert edit.status_code == 200
    shown = researcher.get(f"/requests/{ref}").text
    assert "Renewal in progress" in shown and "Renew this request" not in shown
    assert "Withdraw the renewal" in shown
    # The coordinator is told nothing to do until the renewal is submitted.
    coordinator = client_of(app, "coordinator@example.org").get(f"/requests/{ref}").text
    assert "Screen this request" not in coordinator
    assert "Edit the renewal of" in edit.text
    fields = {name: value for name, value in COMPLETE.items() if name not in ("team", "datasets")}
    member = COMPLETE["team"][0]
    form = {
        **fields, "retention_days": "365", "datasets": COMPLETE["datasets"],
        "methods": "Descriptive statistics, one more year (fictional).",
        **{f"team-0-{key}": member[key] for key in ("name", "email", "role")},
        "csrf_token": csrf_token(edit.text), "submit": "1",
    }  # fmt: skip
    saved = researcher.post(f"/requests/{ref}/edit", data=form)
    assert saved.status_code == 302 and saved.headers["Location"] == f"/requests/{ref}"
    assert amendment(app, ref) == ("active", "screening", "renew")
    shown = researcher.get(f"/requests/{ref}").text
    assert "What it changes" in shown and "one more year" in shown
    coordinator = client_of(app, "coordinator@example.org").get(f"/requests/{ref}").text
    assert "Screen this request" in coordinator


def test_amend_through_the_api(app, flow, api):
    ref = flow.active()
    allowed = {
        a["action"] for a in api.get("researcher", f"/requests/{ref}").json["allowed_actions"]
    }
    assert {"renew", "amend", "close"} <= allowed and "edit" not in allowed
    assert problem(api.act("researcher", ref, "amend", reason=""), 422)["errors"] == [
        {"field": "reason", "message": "Say what the renewal or amendment is for."}
    ]
    body = api.act("researcher", ref, "amend", reason="A new analyst joins.").json
    assert body["status"] == "active"
    assert body["amendment"] == {"phase": "draft", "kind": "amend", "changed": []}
    allowed = {a["action"] for a in body["allowed_actions"]}
    assert {"edit", "submit", "withdraw"} <= allowed and not {"renew", "amend"} & allowed
    team = [{"name": "Sam Analyst", "email": "sam@example.org", "role": "analyst"}]
    patched = api.patch("researcher", f"/requests/{ref}", json={"team": team}).json
    assert patched["amendment"]["changed"] == ["team"]
    conflict = problem(api.act("researcher", ref, "renew", reason="x"), 409)
    assert [b["rule"] for b in conflict["blocked_by"]] == ["amendment_in_progress"]
    withdrawn = api.act("researcher", ref, "withdraw", reason="Not needed after all.").json
    assert withdrawn["status"] == "active" and withdrawn["amendment"] is None
    assert withdrawn["team"] == [
        {"name": "Robin Researcher", "email": "robin@example.org", "role": "PI"}
    ]  # the fields in force again
    ended = events(app, ref)[-1]
    assert ended.action == "amendment.ended"
    assert ended.details == {
        "what": "amend",
        "outcome": "withdrawn",
        "reason": "Not needed after all.",
    }


def queue_of(app, email: str, key: str) -> str:
    """The home page's queue ``key`` as ``email`` reads it ("" when it is not shown)."""
    home = client_of(app, email).get("/").text
    start = home.find(f'id="queue-{key}"')
    return "" if start < 0 else home[start : home.find("</section>", start)]


def test_an_amendment_waits_in_the_queues_of_whoever_acts_on_it_next(app, flow):
    """The queues read the amendment's phase, as the transition table does: an active
    request's renewal waits for screening, review, decision and signatures like any."""
    ref = flow.active()
    assert ref not in queue_of(app, "coordinator@example.org", "screen")
    flow.do("researcher", "renew", ref, reason=REASON)
    assert ref in queue_of(app, "researcher@example.org", "yours"), "its draft is theirs"
    flow.do("researcher", "submit", ref)
    assert ref in queue_of(app, "coordinator@example.org", "screen")
    flow.do("coordinator", "screen", ref)
    assert ref not in queue_of(app, "coordinator@example.org", "screen")
    assert ref in queue_of(app, "s.heron@example.org", "review")
    flow.do("heron_steward", "review", ref, "blue-heron")
    assert ref not in queue_of(app, "s.heron@example.org", "review")
    assert ref in queue_of(app, "rep.heron@example.org", "decide")
    for who in ("cedar_steward1", "cedar_steward2"):
        flow.do(who, "review", ref, "red-cedar")
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    flow.do("heron_rep", "decide", ref, "blue-heron")
    assert ref in queue_of(app, "researcher@example.org", "sign")
    assert ref in queue_of(app, "rep.cedar@example.org", "sign")


def test_the_reason_for_an_amendment_is_on_the_pages_that_judge_it(app, flow):
    """Found in a browser: the researcher's reason for an amendment was in the timeline
    only, not on the pages where it is screened, reviewed and decided."""
    ref = flow.active()
    flow.do("researcher", "amend", ref, reason="A research assistant joins (fictional).")
    flow.edit("researcher", ref, title="Wellbeing of children in care, with an assistant")
    flow.do("researcher", "submit", ref)
    for email, path in (
        ("coordinator@example.org", f"/requests/{ref}/screen"),
        ("researcher@example.org", f"/requests/{ref}"),
    ):
        page = client_of(app, email).get(path).text
        assert "Why the researcher asks to amend" in page, path
        assert "A research assistant joins (fictional)." in page, path
    flow.do("coordinator", "screen", ref)
    page = client_of(app, "s1.cedar@example.org").get(f"/requests/{ref}/review/red-cedar").text
    assert "A research assistant joins (fictional)." in page


def test_signing_a_new_edition_says_it_is_in_force_only_once_every_party_signed(app, flow):
    """Found in a browser: each signer of an amendment's edition, the first too, read
    "Every party has signed: access is active" (the request stays active meanwhile)."""
    from renewals import SIGNERS, reviewed_afresh

    ref = flow.active()
    flow.do("researcher", "amend", ref)
    reviewed_afresh(flow, ref)
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    flow.do("heron_rep", "decide", ref, "blue-heron")
    emails = {"researcher": "researcher@example.org", "cedar_rep": "rep.cedar@example.org"}
    emails["heron_rep"] = "rep.heron@example.org"
    for number, (who, _nation) in enumerate(SIGNERS, 1):
        client = client_of(app, emails[who])
        page = client.get(f"/requests/{ref}").text
        nation = page.split('name="nation" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            f"/requests/{ref}/sign",
            data={"csrf_token": csrf_token(page), "password": "correct horse battery",
                  "nation": nation},
            follow_redirects=True,
        )  # fmt: skip
        assert signed.status_code == 200, who
        last = number == len(SIGNERS)
        assert ("Every party has signed: edition 2 is in force." in signed.text) == last, who
        assert ("Edition 2 waits for the other parties." in signed.text) == (not last), who
        assert "access is active" not in signed.text, who


@pytest.mark.parametrize("kind, word", [("renew", "renewal"), ("amend", "amendment")])
def test_withdrawing_a_renewal_or_amendment_says_access_goes_on(app, flow, kind, word):
    """Found in a browser: withdrawing a renewal asked "Say why the request is
    withdrawn." and then said "The request is withdrawn.", though access goes on."""
    ref = flow.active()
    flow.do("researcher", kind, ref)
    researcher = client_of(app, "researcher@example.org")
    token = csrf_token(researcher.get(f"/requests/{ref}").text)
    empty = researcher.post(f"/requests/{ref}/withdraw", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 422 and f"Say why the {word} is withdrawn." in empty.text
    assert "Say why the request is withdrawn." not in empty.text
    done = researcher.post(
        f"/requests/{ref}/withdraw",
        data={"csrf_token": token, "reason": "Not needed after all."},
        follow_redirects=True,
    )
    assert done.status_code == 200 and amendment(app, ref) == ("active", None, None)
    said = f"The {word} is withdrawn: access continues under the agreement in force."
    assert said in done.text and "The request is withdrawn." not in done.text


def test_while_a_renewal_awaits_signatures_refuse_and_revoke_say_what_each_ends(app, flow):
    """Found in a browser: the representative's page offered "Refuse" and "Revoke" with
    nothing saying how they differ. While a renewal awaits signatures they differ most:
    refusing ends the renewal alone, revoking ends access too."""
    from renewals import reviewed_afresh

    ref = flow.active()
    flow.do("researcher", "renew", ref)
    reviewed_afresh(flow, ref)
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    flow.do("heron_rep", "decide", ref, "blue-heron")
    page = client_of(app, "rep.cedar@example.org").get(f"/requests/{ref}").text
    refuse, revoke = (
        page.split('id="refuse-red-cedar">')[1],
        page.split('id="revoke-red-cedar">')[1],
    )
    assert refuse.startswith("A refusal ends the renewal only: access goes on under")
    assert revoke.startswith("Revoking ends access at once for the whole request, and the renewal")
    refused = flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="No.")
    assert refused == "active", "access goes on under the agreement in force"
