"""A steward's review and a representative's decision judge the revision the person
read. Found in a probe: a review page opened on revision 1 and sent after the researcher
had revised the request (revision 2) recorded an approval of revision 2, which its
steward never read; the same with a decision page and through the API. Each now says
which revision it judges, and one sent for a revision that is no longer current is
refused (409, rule current_revision), nothing written."""

import re

from sqlmodel import select

from portal.db import session_scope
from portal.reviews.forms import CRITERIA
from portal.reviews.models import Review

from helpers import sign_in


def hidden_fields(html: str) -> dict[str, str]:
    """What a browser sends back of a page's form without the person typing it."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' in tag and (name := re.search(r'name="([^"]+)"', tag)):
            value = re.search(r'value="([^"]*)"', tag)
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def revised_while_open(flow, ref: str) -> None:
    """Another Nation asks for changes; the researcher revises; screened again."""
    flow.do("heron_steward", "review", ref, "blue-heron", recommendation="changes", comment="Why?")
    flow.edit("researcher", ref, methods="Descriptive statistics, now with a linkage step.")
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)


def reviews_of(app, ref: str) -> list[tuple[int, str | None]]:
    from portal.requests.models import AccessRequest

    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        rows = session.exec(select(Review).where(Review.request_id == request.id)).all()
        return sorted((row.revision, row.recommendation) for row in rows)


def test_a_review_page_opened_before_a_revision_is_refused_after_it(client, flow, app):
    ref = flow.to_review()
    sign_in(client, "s1.cedar@example.org")
    path = f"/requests/{ref}/review/red-cedar"
    opened = client.get(path).text  # revision 1, read by the steward
    revised_while_open(flow, ref)
    answers = {"recommendation": "approve"} | {f"criterion_{key}": "met" for key in CRITERIA}
    stale = client.post(path, data=hidden_fields(opened) | answers)
    assert stale.status_code == 409, stale.status_code
    assert "revision 2" in stale.text and "since you opened" in stale.text
    assert (2, "approve") not in reviews_of(app, ref), "nothing written"
    # The refusal's page shows revision 2: sent again from it, the review judges that.
    fresh = client.post(path, data=hidden_fields(stale.text) | answers)
    assert fresh.status_code == 302
    assert (2, "approve") in reviews_of(app, ref)


def test_a_decision_page_opened_before_a_revision_is_refused_after_it(client, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    sign_in(client, "rep.cedar@example.org")
    path = f"/requests/{ref}/decide/red-cedar"
    opened = client.get(path).text  # revision 1, with its stewards' reviews
    revised_while_open(flow, ref)
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    stale = client.post(path, data=hidden_fields(opened) | {"outcome": "approve"})
    assert stale.status_code == 409, stale.status_code
    assert "revision 2" in stale.text
    assert flow.status(ref) == "under_review"
    fresh = client.post(path, data=hidden_fields(stale.text) | {"outcome": "approve"})
    assert fresh.status_code == 302


def test_a_revision_that_is_no_number_is_named_and_nothing_written(client, flow, app):
    """Found by the fuzz test: a hidden revision sent as anything but a number read
    WTForms' own "Not a valid integer value", naming no field."""
    ref = flow.to_review()
    sign_in(client, "s1.cedar@example.org")
    path = f"/requests/{ref}/review/red-cedar"
    answers = {"recommendation": "approve"} | {f"criterion_{key}": "met" for key in CRITERIA}
    sent = client.post(
        path, data=hidden_fields(client.get(path).text) | answers | {"revision": "\r:"}
    )
    assert sent.status_code == 422, sent.status_code
    assert "The page did not say which revision it showed: open it again, then answer." in (
        sent.text
    )
    assert "Not a valid integer value" not in sent.text
    assert reviews_of(app, ref) == [], "nothing written"


def test_a_screening_page_opened_before_a_revision_is_refused_after_it(client, flow):
    """The same probe found it on the screening page: opened on revision 1, returned
    from another tab, revised and submitted again, then sent: it accepted revision 2."""
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    sign_in(client, "coordinator@example.org")
    path = f"/requests/{ref}/screen"
    opened = client.get(path).text  # revision 1, read by the coordinator
    flow.do("coordinator", "screen", ref, outcome="return", comment="Which years?")
    flow.edit("researcher", ref, methods="Descriptive statistics of 2015 to 2020.")
    flow.do("researcher", "submit", ref)
    stale = client.post(path, data=hidden_fields(opened) | {"outcome": "accept"})
    assert stale.status_code == 409, stale.status_code
    assert "revision 2" in stale.text and "since you opened" in stale.text
    assert flow.status(ref) == "screening", "nothing written"
    fresh = client.post(path, data=hidden_fields(stale.text) | {"outcome": "accept"})
    assert fresh.status_code == 302
    assert flow.status(ref) == "under_review"
