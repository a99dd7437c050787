"""A periodic report is owed for a period that ran, never for one that begins after
access ended (found in a probe: Red Cedar's yearly report was met ahead of its due, which
opened the next year; Red Cedar then revoked before that year began, and the researcher
was asked at once for the report of a year of access that never ran, on the request
page, in the API, in their queue and by the check). Access ending early settles it, as
an assessment does when the next period would begin after the end; the report of a
period cut short stays owed, and is taken at once: the last report on the use made."""

from datetime import date, timedelta

import pytest

from portal.errors import Refused

from helpers import sign_in
from obligated import YEARLY


def researcher_steps(app, api, ref: str, key: int) -> tuple[set, str]:
    body = api.get("researcher", f"/requests/{ref}").get_json()
    offered = {a.get("obligation") for a in body["allowed_actions"]}
    client = app.test_client()
    assert sign_in(client, "researcher@example.org").status_code == 302
    return offered, client.get(f"/requests/{ref}").text + client.get("/").text


def test_no_report_is_asked_for_a_period_that_begins_after_access_ended(app, owed, api):
    ref = owed.active(retention_days=730)
    key = owed.id(ref, YEARLY)
    owed.due_soon(ref, YEARLY)  # the first year ends in ten days: its report is taken
    owed.report("researcher", ref, YEARLY, "The first year.")
    owed.assess("cedar_rep", ref, YEARLY, "met")
    assert owed.obligations(ref)[YEARLY].state == "open", "the second year is owed"
    owed.flow.do("cedar_rep", "revoke", ref, "red-cedar")  # before the second year begins
    assert owed.obligations(ref)[YEARLY].state == "met", "nothing more is owed on it"
    with pytest.raises(Refused):
        owed.report("researcher", ref, YEARLY, "A year that never ran.")
    offered, pages = researcher_steps(app, api, ref, key)
    assert key not in offered and f"/obligations/{key}/report" not in pages
    assert owed.id(ref, "return_or_destroy") in offered, "the end's obligations are owed"


def test_the_report_of_a_period_cut_short_is_taken_at_once(app, owed, api):
    ref = owed.active(retention_days=730)
    key = owed.id(ref, YEARLY)
    owed.set_due(ref, YEARLY, date.today() + timedelta(days=180))  # half the year ran
    owed.flow.do("cedar_rep", "revoke", ref, "red-cedar")
    assert owed.obligations(ref)[YEARLY].state == "open"
    offered, pages = researcher_steps(app, api, ref, key)
    assert key in offered and f"/obligations/{key}/report" in pages
    owed.report("researcher", ref, YEARLY, "The use made until the revocation.")
    assert owed.obligations(ref)[YEARLY].state == "reported"
