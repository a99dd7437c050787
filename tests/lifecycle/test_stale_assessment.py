"""An assessment judges the report its author read. Found in a probe: an assessment page
opened on the researcher's first report and sent after the researcher had reported again
marked the obligation met on a report its author never saw. The page sends the report it
showed (its reported_at; the API may too): an assessment of one no longer the latest is
refused (409, rule latest_report), nothing written. Waiving judges no report: it is
not held back, as a refusal is not (tests/test_stale_forms.py)."""

from test_obligation_pages import client_of
from test_stale_forms import hidden_fields

from apis import problem

KEY = "return_or_destroy"


def reported_twice(owed, ref: str, key: str = KEY, rep: str = "cedar_rep") -> None:
    """The Nation finds the first report wanting; the researcher reports again."""
    owed.assess(rep, ref, key, "not_met", comment="Say which server.")
    owed.report("researcher", ref, key, "Second report: erased on the approved server.")


def test_an_assessment_page_opened_before_a_new_report_is_refused_after_it(app, owed):
    ref = owed.active()
    owed.report("researcher", ref, KEY, "First report: destroyed.")
    steward = client_of(app, "cedar_steward1")
    path = f"/requests/{ref}/obligations/{owed.id(ref, KEY)}/assess"
    opened = steward.get(path).text  # the first report, read by the steward
    assert "First report: destroyed." in opened
    reported_twice(owed, ref)
    stale = steward.post(path, data=hidden_fields(opened) | {"outcome": "met"})
    assert stale.status_code == 409, stale.status_code
    assert "reported again since you opened" in stale.text
    assert "Second report: erased on the approved server." in stale.text
    assert owed.obligations(ref)[KEY].state == "reported", "nothing written"
    # The refusal's page shows the new report: sent again from it, it assesses that.
    fresh = steward.post(path, data=hidden_fields(stale.text) | {"outcome": "met"})
    assert fresh.status_code == 302, fresh.status_code
    assert owed.obligations(ref)[KEY].state == "met"


def test_an_assessment_through_the_api_names_the_report_it_judges(app, owed, api):
    ref = owed.active()
    key = owed.id(ref, KEY)

    def reported_at(key: int, who: str = "cedar_steward1") -> str:
        items = api.get(who, f"/requests/{ref}").get_json()["obligations"]
        return next(item for item in items if item["id"] == key)["reported_at"]

    owed.report("researcher", ref, KEY, "First report: destroyed.")
    first = reported_at(key)
    reported_twice(owed, ref)
    for outcome in ({"outcome": "met"}, {"outcome": "not_met", "comment": "Not enough."}):
        body = {"obligation": key, "reported_at": first, **outcome}
        stale = problem(api.act("cedar_steward1", ref, "assess_obligation", **body), 409)
        assert [rule["rule"] for rule in stale["blocked_by"]] == ["latest_report"]
        assert "reported again since you opened" in stale["detail"]
        assert owed.obligations(ref)[KEY].state == "reported", "nothing written"
    naive = {"obligation": key, "outcome": "met", "reported_at": first.rstrip("Z")}
    assert api.act("cedar_steward1", ref, "assess_obligation", **naive).status_code == 422
    latest = {"obligation": key, "outcome": "met", "reported_at": reported_at(key)}
    assert api.act("cedar_steward1", ref, "assess_obligation", **latest).status_code == 200
    assert owed.obligations(ref)[KEY].state == "met"
    # Waiving judges no report: the representative may waive whatever was read.
    summary = "Share a plain-language summary with the community."
    owed.report("researcher", ref, summary, "A first summary.")
    old = reported_at(owed.id(ref, summary), "heron_rep")
    reported_twice(owed, ref, summary, "heron_rep")
    waive = {"obligation": owed.id(ref, summary), "outcome": "waived", "comment": "Let go."}
    assert (
        api.act("heron_rep", ref, "assess_obligation", **waive, reported_at=old).status_code == 200
    )
    assert owed.obligations(ref)[summary].state == "waived"
