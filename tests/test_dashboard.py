"""The coordinators' dashboard: counts by status and by Nation, and stage durations,
on requests whose every event happened at a known time (the clock pinned)."""

import gc
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from portal.charts import bar_chart
from portal.db import pinned_clock, session_scope, utcnow
from portal.requests.models import RequestStatus
from portal.transparency import figures
from portal.transparency.dashboard import _KEPT as dashboard_views
from portal.transparency.dashboard import dashboard
from portal.transparency.stages import (
    StageEvent,
    durations,
    format_duration,
    percentile,
)

from flows import PEOPLE
from helpers import sign_in

DAY = 86400.0
S = RequestStatus


@pytest.fixture
def known(flow):
    """Requests whose stage events happened on known days after T0 (20 days ago)."""
    t0 = utcnow().replace(microsecond=0) - timedelta(days=20)

    def on(day: float, who: str, action: str, ref: str, nation=None, **body):
        with pinned_clock(t0 + timedelta(days=day)):
            flow.do(who, action, ref, nation, **body)

    approved = flow.draft(title="Approved (fictional)")
    on(0, "researcher", "submit", approved)
    on(2, "coordinator", "screen", approved)
    for steward, nation in [
        ("cedar_steward1", "red-cedar"),
        ("cedar_steward2", "red-cedar"),
        ("heron_steward", "blue-heron"),
    ]:
        on(3, steward, "review", approved, nation)
    on(5, "cedar_rep", "decide", approved, "red-cedar")
    on(7, "heron_rep", "decide", approved, "blue-heron")

    refused = flow.draft(title="Refused (fictional)")
    on(0, "researcher", "submit", refused)
    on(1, "coordinator", "screen", refused, outcome="return", comment="Name the ethics board.")
    on(4, "researcher", "submit", refused)
    on(5, "coordinator", "screen", refused)
    on(6, "heron_rep", "decide", refused, "blue-heron", outcome="refuse", reason="No benefit.")

    screening = flow.draft(title="Waiting for screening (fictional)", datasets=["cedar-health"])
    on(0, "researcher", "submit", screening)
    withdrawn = flow.draft(title="Withdrawn (fictional)")
    on(0, "researcher", "submit", withdrawn)
    on(1, "researcher", "withdraw", withdrawn)
    flow.draft(title="A draft: never counted (fictional)")

    old = flow.draft(title="Submitted 400 days before T0 (fictional)")
    on(-400, "researcher", "submit", old)
    on(-399, "coordinator", "screen", old)
    on(-398, "heron_steward", "review", old, "blue-heron")
    return flow


def view_as(app, flow, who="coordinator", window=365):
    with app.app_context(), session_scope() as session:
        view = dashboard(session, flow.user(session, who), window)
        session.expunge_all()  # the Nations stay readable after the session ends
        return view


def test_counts_by_status_and_by_nation(app, known):
    view = view_as(app, known)
    counts = dict(view.by_status)
    assert S.DRAFT not in counts
    assert {s: n for s, n in counts.items() if n} == {
        S.SCREENING: 1,
        S.UNDER_REVIEW: 1,
        S.AWAITING_SIGNATURES: 1,
        S.REFUSED: 1,
        S.WITHDRAWN: 1,
    }
    nations = {row.nation.slug: row for row in view.nations}
    cedar, heron = nations["red-cedar"], nations["blue-heron"]
    assert (cedar.total, heron.total) == (5, 4), "the request waiting for screening is Cedar's"
    assert cedar.by_status[S.SCREENING] == 1 and S.SCREENING not in heron.by_status
    assert (cedar.waiting_for_stewards, cedar.waiting_for_decision) == (1, 0)
    assert (heron.waiting_for_stewards, heron.waiting_for_decision) == (0, 1)


def test_stage_durations_median_and_90th_percentile(app, known):
    view = view_as(app, known)
    assert view.requests_in_window == 4, "first submitted in the last 365 days; drafts never"
    got = {s.stage.key: (s.samples, s.median / DAY, s.p90 / DAY) for s in view.stages}
    assert got == {
        # approved 2 days; refused 1 day, then 1 day again after its resubmission
        "screening": (3, pytest.approx(1.0), pytest.approx(1.8)),
        # refused: returned on day 1, resubmitted on day 4
        "revision": (1, pytest.approx(3.0), pytest.approx(3.0)),
        # approved: Cedar 3 days and Heron 5 after screening; refused: Heron 1 day
        "nation": (3, pytest.approx(3.0), pytest.approx(4.6)),
        # approved: 7 days from submission to the last approval; refused: 6 to the refusal
        "outcome": (2, pytest.approx(6.5), pytest.approx(6.9)),
    }


def test_the_window_bounds_which_requests_are_timed(app, known):
    short, long = view_as(app, known, window=30), view_as(app, known, window=1095)
    assert (short.requests_in_window, long.requests_in_window) == (4, 5)
    screening = {s.stage.key: s.samples for s in long.stages}["screening"]
    assert screening == 4, "the request from 400 days ago counts in a 1095-day window"


def test_the_page_shows_the_figures_a_chart_and_the_definitions(client, known):
    sign_in(client, PEOPLE["coordinator"][0])
    page = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'<th scope="row">Awaiting signatures</th><td>1</td>', page)
    assert re.search(
        r'<th scope="row">Screening</th><td>3</td><td>24.0 hours</td><td>43.2 hours</td>', page
    )
    assert re.search(
        r"Submission to outcome</th><td>2</td><td>6.5 days</td><td>6.9 days</td>", page
    )
    assert page.count('class="chart-rows" role="img"') == 2
    assert 'id="status-chart-desc">Screening: 1; Changes requested: 0; Under review: 1;' in page
    assert "From a submission (or a resubmission) to the coordinator" in page
    assert "<script" not in page


@pytest.mark.parametrize(
    "who", ["researcher", "admin", "cedar_steward1", "cedar_rep", "heron_steward", "heron_rep"]
)
def test_only_coordinators_see_the_dashboard(client, flow, who):
    sign_in(client, PEOPLE[who][0])
    assert client.get("/dashboard").status_code == 403
    assert "Dashboard</a>" not in client.get("/").get_data(as_text=True)


def test_coordinators_find_it_in_the_navigation(client, flow):
    sign_in(client, PEOPLE["coordinator"][0])
    assert 'href="/dashboard">Dashboard</a>' in client.get("/").get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("window", ["7", "abc", "", "365.0"])
def test_a_window_not_offered_is_refused_by_name(client, flow, window):
    sign_in(client, PEOPLE["coordinator"][0])
    response = client.get("/dashboard", query_string={"window": window})
    assert response.status_code == 400
    assert "Choose a window of 30, 90, 365, 1095 days" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "values,median,p90",
    [
        ([], None, None),
        ([5.0], 5.0, 5.0),
        ([1.0, 2.0], 1.5, 1.9),
        ([3.0, 1.0, 2.0], 2.0, 2.8),
        ([1.0] * 9 + [100.0], 1.0, 10.9),
    ],
)
def test_percentile(values, median, p90):
    assert percentile(values, 0.5) == pytest.approx(median)
    assert percentile(values, 0.9) == pytest.approx(p90)


T = datetime(2026, 1, 1, tzinfo=UTC)


def events(*steps) -> list[StageEvent]:
    return [StageEvent(action, T + timedelta(days=day), nation) for day, action, nation in steps]


@pytest.mark.parametrize(
    "steps,status,expected",
    [
        ([], S.DRAFT, {}),
        (
            [(0, "request.submitted", None), (1, "request.withdrawn", None)],
            S.WITHDRAWN,
            {},
        ),
        (  # refused at screening before any Nation's review opened
            [(0, "request.submitted", None), (2, "decision.refused", 1)],
            S.REFUSED,
            {"outcome": [2]},
        ),
        (  # a steward asks for changes; both Nations decide again on the new revision
            [
                (0, "request.submitted", None),
                (1, "request.screened", None),
                (2, "decision.approved", 1),
                (3, "request.changes_requested", None),
                (5, "request.submitted", None),
                (6, "request.screened", None),
                (7, "decision.approved", 1),
                (7, "decision.refused", 1),  # a Nation's second word on one revision: once
                (9, "decision.approved", 2),
            ],
            S.AWAITING_SIGNATURES,
            {"screening": [1, 1], "revision": [2], "nation": [1, 1, 3], "outcome": [9]},
        ),
    ],
)
def test_stage_durations_of_one_request(steps, status, expected):
    found = durations(events(*steps), status)
    assert {key: [v / DAY for v in values] for key, values in found.items() if values} == expected


@pytest.mark.parametrize(
    "seconds,text",
    [
        (None, "—"),
        (0, "0 min"),
        (90, "2 min"),
        (3600, "1.0 hours"),
        (47 * 3600, "47.0 hours"),
        (2 * DAY, "2.0 days"),
        (10.25 * DAY, "10.2 days"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_bars_scale_to_the_largest_value_and_say_their_figures():
    chart = bar_chart(
        "Counts", [("A", [(4, "4")]), ("B", [(2, "2")]), ("C", [(0, "0")])], [("count", "n")]
    )
    assert [(row.label, [bar.share for bar in row.bars]) for row in chart.rows] == [
        ("A", [100]),
        ("B", [50]),
        ("C", [0]),
    ]
    assert chart.description == "A: 4; B: 2; C: 0."
    assert bar_chart("Empty", [("A", [(0, "0")])], [("count", "n")]).rows[0].bars[0].share == 0


def test_pinning_the_clock_needs_an_aware_time_and_ends_with_the_block():
    with pytest.raises(ValueError, match="naive"), pinned_clock(datetime(2026, 1, 1)):
        pass
    with pinned_clock(T):
        assert utcnow() == T
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_revocation_counts_under_the_revoking_nation_only(app, flow):
    ref = flow.approved()
    for who in ("researcher", "cedar_rep", "heron_rep"):
        flow.do(who, "sign", ref)
    flow.do("heron_rep", "revoke", ref, "blue-heron")
    view = view_as(app, flow)
    assert dict(view.by_status)[S.REVOKED] == 1
    nations = {row.nation.slug: row for row in view.nations}
    assert nations["blue-heron"].by_status.get(S.REVOKED) == 1
    assert S.REVOKED not in nations["red-cedar"].by_status, "Red Cedar did not revoke"


def test_the_figures_are_kept_until_something_happens(app, known):
    """Each worker keeps the figures it computed while the record's last event stays the
    same (the clock pinned: the same minute); a new event shows in the next view."""
    moment = utcnow()
    with pinned_clock(moment):
        first, again = view_as(app, known), view_as(app, known)
        assert again is first, "nothing happened: the figures are kept"
        known.do("researcher", "submit", known.draft(title="One more (fictional)"))
        after = view_as(app, known)
    assert dict(after.by_status)[S.SCREENING] == dict(first.by_status)[S.SCREENING] + 1
    assert after.nations[0].nation.name  # the Nations are readable outside any session


def _figures(view):
    nations = {
        row.nation.slug: (row.by_status, row.waiting_for_stewards, row.waiting_for_decision)
        for row in view.nations
    }
    stages = [(s.stage.key, s.samples, s.median, s.p90) for s in view.stages]
    return view.by_status, nations, view.requests_in_window, stages


def test_the_figures_kept_up_to_date_by_events_are_those_counted_afresh(app, known):
    """The view made from what changed since the last one (figures.py) equals the view
    made by reading every request again, after each kind of change."""
    before = _figures(view_as(app, known))
    ref = known.approved(title="Signed and revoked later (fictional)")
    for who in ("researcher", "cedar_rep", "heron_rep"):
        known.do(who, "sign", ref)
    known.do("heron_rep", "revoke", ref, "blue-heron")
    known.do("researcher", "submit", known.draft(title="Submitted later (fictional)"))
    known.to_review(title="Under review later (fictional)")
    kept = _figures(view_as(app, known))
    figures.forget()
    dashboard_views.clear()
    afresh = _figures(view_as(app, known))
    assert kept == afresh
    assert kept != before
    by_status = dict(kept[0])
    assert by_status[S.REVOKED] == 1 and by_status[S.SCREENING] == 2
    assert by_status[S.UNDER_REVIEW] == 2
    assert kept[1]["blue-heron"][0].get(S.REVOKED) == 1
    assert kept[1]["red-cedar"][0].get(S.REVOKED) is None, "Red Cedar did not revoke"


def test_a_worker_counts_the_figures_as_it_starts(app, known):
    """gunicorn's post_worker_init starts the first count in a thread: once it is done the
    store is filled with what a page would count, and a view reads it as it is."""
    figures.forget()
    dashboard_views.clear()
    figures.fill_in_background(app).join(timeout=60)
    with app.app_context(), session_scope() as session:
        store = figures._STORES[figures.database_of(session)]
    assert store.filled
    counted_at_start = +store.counts
    view = view_as(app, known)
    assert list(figures._STORES.values()) == [store], "the page used the store counted at start"
    for status, count in view.by_status:
        assert counted_at_start.get(("status", status), 0) == count
    assert dict(view.by_status)[S.SCREENING] == 1


def test_while_the_first_count_runs_the_dashboard_says_so_and_waits_for_nothing(app, client, known):
    """A page asked while another thread makes the first count answers at once, 503 with
    Retry-After, instead of waiting past gunicorn's timeout; once counted, it shows."""
    figures.forget()
    dashboard_views.clear()
    with app.app_context(), session_scope() as session:
        key = figures.database_of(session)
    store = figures._STORES.setdefault(key, figures.Store())
    sign_in(client, PEOPLE["coordinator"][0])
    counting, asked = threading.Event(), threading.Event()

    def count():  # the worker's thread, holding the store while it counts (at most 10 s)
        with store.lock:
            counting.set()
            asked.wait(timeout=10)

    counter = threading.Thread(target=count)
    counter.start()
    counting.wait()
    answer = client.get("/dashboard")  # a page that waited would get the figures, late
    asked.set()
    counter.join()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert "being counted" in answer.text
    assert client.get("/dashboard").status_code == 200


def test_the_page_speaks_french_with_french_figures(client, known):
    sign_in(client, PEOPLE["coordinator"][0])
    page = client.get("/dashboard", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="fr-CA"' in page
    assert "<h1>Tableau de bord</h1>" in page
    assert "Demandes par Nation" in page and "Temps passé à chaque étape" in page
    # The stages, their definitions and durations, in French (a decimal comma).
    assert re.search(r'<th scope="row">Examen préalable</th><td>3</td><td>24,0 heures</td>', page)
    assert "De la première soumission à l’issue" in page
    assert "6,5 jours" in page and "6.5 days" not in page
    assert "demandes soumises pour la première fois au cours des 365 derniers jours" in page
    assert "Médiane" in page and "Median" not in page


def test_a_large_store_is_left_out_of_the_cyclic_collector(app, known, monkeypatch):
    """At FREEZE_ABOVE requests or more, the first count freezes what is alive (the
    store's half a million objects at 100,000 requests) so the collector's full passes
    no longer walk it; a smaller portal's count freezes nothing."""

    def frozen_by_a_first_count() -> int:
        figures.forget()
        dashboard_views.clear()
        gc.unfreeze()
        view_as(app, known)
        return gc.get_freeze_count()

    try:
        assert frozen_by_a_first_count() == 0  # a few requests, far below the threshold
        monkeypatch.setattr(figures, "FREEZE_ABOVE", 1)
        assert frozen_by_a_first_count() > 0
    finally:
        gc.unfreeze()
