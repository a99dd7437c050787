"""Every role knows what to do next: its queues say how long each step has waited, the
request page addresses its reader ("You sign next"), the reasons stand where the person
acts, and every e-mail links to the page where the next step is taken."""

import re
from datetime import timedelta

from sqlmodel import select

from portal.db import session_scope, utcnow
from portal.notify.models import OutboxMessage
from portal.requests.models import AccessRequest
from portal.reviews.models import NationTrack
from portal.workflow import queues
from portal.workflow.commands import Withdraw
from portal.workflow.queues import QUEUE_SHOWN

from flows import PEOPLE
from helpers import sign_in

CEDAR = "Red Cedar Nation (fictional)"


def page_of(client, who: str, path: str) -> str:
    """``path`` as ``who`` reads it (signed in on a client of their own)."""
    own = client.application.test_client()
    sign_in(own, PEOPLE[who][0])
    return own.get(path).get_data(as_text=True)


def panel(page: str, heading_id: str) -> str:
    """The text of the section a heading opens (up to the next section)."""
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def age(app, ref: str, days: int) -> None:
    """Move the request's (and its tracks') last change ``days`` into the past."""
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        request.updated_at = utcnow() - timedelta(days=days)
        for track in session.exec(select(NationTrack).where(NationTrack.request_id == request.id)):
            track.updated_at = utcnow() - timedelta(days=days + 1)
            session.add(track)
        session.add(request)


def panel_of(page: str, element_id: str) -> str:
    """The queue panel ``element_id`` (a div, up to the next panel)."""
    start = page.index(f'id="{element_id}"')
    end = page.find('<div class="panel"', start)
    return page[start : end if end != -1 else page.index("</section>", start)]


def mail_to(app, who: str, ref: str) -> list[tuple[str, str]]:
    """The subject and body of each message queued for ``who`` about ``ref``."""
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        messages = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.recipient == PEOPLE[who][0],
                OutboxMessage.request_id == request.id,
            )
        )
        return [(m.subject, m.body) for m in messages]


def test_a_queue_says_for_whom_and_how_long_each_step_has_waited(app, client, flow):
    ref = flow.to_review()
    age(app, ref, 3)  # the stewards' track has waited four days
    home = page_of(client, "cedar_steward1", "/")
    queue = home[home.index('id="queue-review"') :]
    queue = queue[: queue.index("</div>")]
    assert ref in queue and f"for {CEDAR}" in queue
    assert re.search(r"waiting <time[^>]*>4 days</time>", queue), queue


def test_a_queue_shows_those_that_waited_longest_and_says_when_more_wait(app, client, flow):
    """A queue lists QUEUE_SHOWN requests, the longest waiting first, and says when more
    wait; the list of requests below has every one."""
    refs = [flow.draft(title=f"Draft {number}") for number in range(QUEUE_SHOWN + 1)]
    for days, ref in enumerate(reversed(refs)):  # the first draft has waited longest
        age(app, ref, days)
    queue = panel_of(page_of(client, "researcher", "/"), "queue-yours")
    shown = re.findall(r'<span class="ref">(R-[0-9A-Z-]+)</span>', queue)
    assert shown == refs[:QUEUE_SHOWN]  # the newest draft waits beyond the page's part
    assert f'<span class="count">{QUEUE_SHOWN}+</span>' in queue
    assert f"More wait: these are the {QUEUE_SHOWN} that have waited longest." in queue

    # As many as are shown: no "more".
    flow.perform("researcher", refs[-1], Withdraw(reason="No longer needed"))
    queue = panel_of(page_of(client, "researcher", "/"), "queue-yours")
    assert len(re.findall(r'<span class="ref">(R-[0-9A-Z-]+)</span>', queue)) == QUEUE_SHOWN
    assert f'<span class="count">{QUEUE_SHOWN}</span>' in queue and "More wait" not in queue


def test_requests_in_one_state_never_crowd_out_one_waiting_in_another(
    app, client, flow, monkeypatch
):
    """The page reads a bounded number of candidates, READ_PER_QUEUE in each state: drafts
    (or active and closed requests, which only grow) that waited longer never push a
    request waiting for a signature out of its queue, and the drafts' queue says that
    more may wait beyond what was read."""
    monkeypatch.setattr(queues, "READ_PER_QUEUE", 2)  # the page reads 2 per state
    drafts = [flow.draft(title=f"Draft {number}") for number in range(9)]
    for days, ref in enumerate(reversed(drafts)):  # the first draft has waited longest
        age(app, ref, days + 1)
    waiting = flow.approved()
    home = page_of(client, "researcher", "/")
    signing = panel_of(home, "queue-sign")
    assert waiting in signing, "crowded out by the older drafts"
    assert "More may wait" not in signing
    yours = panel_of(home, "queue-yours")
    assert re.findall(r'<span class="ref">(R-[0-9A-Z-]+)</span>', yours) == drafts[:2]
    assert "More may wait: this page reads the requests that have waited longest" in yours
    assert "More wait:" not in yours and '<span class="count">2</span>' in yours


def test_the_to_sign_queue_and_the_next_step_address_the_signer(app, client, flow):
    ref = flow.approved()
    flow.do("researcher", "sign", ref)
    sign_in(client, PEOPLE["cedar_rep"][0])
    home = client.get("/").get_data(as_text=True)
    to_sign = home[home.index('id="queue-sign"') :]
    assert ref in to_sign[: to_sign.index("</div>")]
    steps = panel(client.get(f"/requests/{ref}").get_data(as_text=True), "next-h")
    assert f"You sign the agreement for {CEDAR} next." in steps
    # Whom else it waits for, in words: the researcher signed; the Nations have not.
    assert "Blue Heron" in steps and "the researcher" not in steps


def test_the_next_step_is_the_readers_own_first(app, client, flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    assert "You screen this request next" in panel(
        page_of(client, "coordinator", f"/requests/{ref}"), "next-h"
    )
    waiting = panel(page_of(client, "researcher", f"/requests/{ref}"), "next-h")
    assert "Waiting for a coordinator to screen the request." in waiting
    assert "You " not in waiting  # nothing is the researcher's to do now
    flow.do("coordinator", "screen", ref)
    steps = panel(page_of(client, "cedar_steward1", f"/requests/{ref}"), "next-h")
    assert steps.index(f"You review this request for {CEDAR} next.") < steps.index(
        "Waiting for 2 more"
    )


def test_the_return_comment_stands_on_the_request_and_edit_pages(app, client, flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    comment = "Name the ethics board and its reference number (sentinel RC1)."
    flow.do("coordinator", "screen", ref, outcome="return", reason="clarification", comment=comment)
    for path in (f"/requests/{ref}", f"/requests/{ref}/edit"):
        said = panel(page_of(client, "researcher", path), "reasons-h")
        assert "What to change" in said and comment in said and "clarification needed" in said
    steps = panel(page_of(client, "researcher", f"/requests/{ref}"), "next-h")
    assert "You revise the request and submit it again." in steps
    # Once resubmitted, the comment concerns an old revision: it leaves the page's top.
    flow.do("researcher", "submit", ref)
    assert 'id="reasons-h"' not in page_of(client, "researcher", f"/requests/{ref}")


def test_a_refusal_reason_is_the_researchers_not_the_coordinators(app, client, flow):
    ref = flow.to_review()
    reason = "Our council declines linkage to school data (sentinel RF1)."
    flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason=reason)
    said = panel(page_of(client, "researcher", f"/requests/{ref}"), "reasons-h")
    assert "Refused" in said and CEDAR in said and reason in said
    coordinator = page_of(client, "coordinator", f"/requests/{ref}")
    assert "Refused" in panel(coordinator, "reasons-h") and reason not in coordinator
    mail = mail_to(app, "researcher", ref)
    assert any(reason in body for _, body in mail)
    assert not any(reason in body for _, body in mail_to(app, "coordinator", ref))


def test_a_revocation_reason_stands_on_the_request_page(app, client, flow):
    ref = flow.approved()
    for who in ("researcher", "cedar_rep", "heron_rep"):
        flow.do(who, "sign", ref)
    flow.do("cedar_rep", "revoke", ref, "red-cedar", reason="Breach of the storage term (RV1).")
    said = panel(page_of(client, "researcher", f"/requests/{ref}"), "reasons-h")
    assert "Access revoked" in said and "Breach of the storage term (RV1)." in said


def test_every_mail_links_to_the_page_of_its_next_step(app, flow):
    app.config["PORTAL_URL"] = "https://portal.example.org/stewardship"
    ref = flow.to_review()
    base = "https://portal.example.org/stewardship"
    (review,) = [
        body for subject, body in mail_to(app, "cedar_steward1", ref) if "touches" in subject
    ]
    assert f"{base}/requests/{ref}/review/red-cedar" in review
    (screen,) = [body for subject, body in mail_to(app, "coordinator", ref) if "screen" in subject]
    assert f"{base}/requests/{ref}/screen" in screen
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="changes", comment="x")
    changes = [body for subject, body in mail_to(app, "researcher", ref) if "Changes" in subject]
    assert f"{base}/requests/{ref}/edit" in changes[0]
    with app.app_context(), session_scope() as session:
        for message in session.exec(select(OutboxMessage)):
            assert f"{base}/requests/{ref}" in message.body, message.subject


def test_what_you_can_do_names_every_step_offered(app, client, flow):
    """Found in a browser: "What you can do" was an empty box for a steward on an active
    request and for the researcher once access ended, and signing was not in it."""
    ref = flow.approved()
    actions = panel(page_of(client, "cedar_rep", f"/requests/{ref}"), "actions-h")
    assert f"Sign the agreement for {CEDAR}" in actions and 'href="#agreement-h"' in actions
    assert "Sign the agreement" in panel(
        page_of(client, "researcher", f"/requests/{ref}"), "actions-h"
    )

    ended = flow.ended()
    actions = panel(page_of(client, "researcher", f"/requests/{ended}"), "actions-h")
    first = re.search(r'<li><a class="button[^"]*" href="([^"]+)"', actions).group(1)
    assert first == f"/requests/{ended}/end/attest", "attesting comes first"
    assert "Report on obligations" not in actions, "nothing here to report on yet"
