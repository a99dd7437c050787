"""Prometheus metrics (portal/metrics.py, /metrics in portal/ops.py): who may read them,
and that requests, workflow actions and jobs move their figures, counted once
whichever adapter acts; and gunicorn with portal/gunicorn_conf.py, two workers whose
figures /metrics sums."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portal import create_app, migrate
from portal.auth import service as auth
from portal.db import get_engine, session_scope
from portal.jobs.expiry import expire_due
from portal.notify.service import deliver
from portal.workflow import create_draft

from apis import Api
from flows import COMPLETE, PEOPLE
from helpers import PASSWORD, seed_nations
from hosts import free_port, gunicorn

TOKEN = "a-metrics-token-for-the-tests"


@pytest.fixture
def metered(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def read_metrics(client, token: str = TOKEN) -> dict[tuple, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def samples(text: str) -> dict[tuple, float]:
    """Each sample by (name, its labels, sorted)."""
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def action(command: str, outcome: str) -> tuple:
    return ("portal_workflow_actions_total", ("command", command), ("outcome", outcome))


def job(name: str, outcome: str) -> tuple:
    return ("portal_job_outcomes_total", ("job", name), ("outcome", outcome))


def requests_of(endpoint: str, method: str = "GET", status: str = "2xx") -> tuple:
    labels = (("endpoint", endpoint), ("method", method), ("status", status))
    return ("portal_request_duration_seconds_count", *labels)


def moved(before: dict, after: dict, key: tuple) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


# --- who may read them ------------------------------------------------------------------


def test_without_a_configured_token_there_are_no_metrics(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_only_the_bearer_of_the_token_reads_them(metered, authorization):
    client = metered.test_client()
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.get_data()
    assert "Set-Cookie" not in response.headers
    read_metrics(client)  # and the right one does


# --- what moves them --------------------------------------------------------------------


def test_each_request_is_timed_by_endpoint_method_and_status_class(metered):
    client = metered.test_client()
    before = read_metrics(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page")
    after = read_metrics(client)
    assert moved(before, after, requests_of("ops.alive")) == 2
    assert moved(before, after, requests_of("unmatched", status="4xx")) == 1


def test_a_workflow_action_is_counted_once_by_outcome_whichever_adapter(metered, flow):
    client = metered.test_client()
    api = Api(metered)
    ref, other = flow.draft(), flow.draft()
    before = read_metrics(client)

    assert api.act("researcher", ref, "submit").status_code == 200  # the API
    flow.do("researcher", "submit", other)  # perform() called directly, as the CLI and jobs do
    assert api.act("researcher", ref, "submit").status_code == 409  # not a draft any more
    assert api.act("other_researcher", ref, "withdraw", reason="x").status_code == 404
    assert api.act("researcher", ref, "screen", outcome="accept").status_code == 403

    after = read_metrics(client)
    assert moved(before, after, action("submit", "done")) == 2
    assert moved(before, after, action("submit", "refused_409")) == 1
    assert moved(before, after, action("withdraw", "refused_404")) == 1
    assert moved(before, after, action("screen", "refused_403")) == 1


def test_mail_sent_and_failed_are_counted(metered, flow):
    client = metered.test_client()
    flow.to_review()  # queues mail to the coordinators, then to the Nations' people
    before = read_metrics(client)
    closed_port = free_port()
    with metered.app_context(), session_scope() as session:
        config = {**metered.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": closed_port}
        assert deliver(session, config, limit=1) == (0, 1)
        sent, failed = deliver(session, metered.config)
    assert sent > 0
    assert failed == 0
    after = read_metrics(client)
    assert moved(before, after, job("mail", "failed")) == 1
    assert moved(before, after, job("mail", "sent")) == sent


def test_each_expiry_run_is_counted(metered, flow):
    client = metered.test_client()
    before = read_metrics(client)
    with metered.app_context(), session_scope() as session:
        assert expire_due(session, dt.date(2030, 1, 1)) == []
    after = read_metrics(client)
    assert moved(before, after, job("expiry", "done")) == 1
    assert moved(before, after, job("expiry", "failed")) == 0


# --- under gunicorn -----------------------------------------------------------------------


def prepared_database(tmp_path: Path, drafts: int) -> tuple[str, str, list[str]]:
    """An SQLite file migrated and loaded as an operator would, with a researcher, their
    API token and ``drafts`` complete drafts: (url, token, refs)."""
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path)})
    try:
        loaded = app.test_cli_runner().invoke(args=["policy", "load"])
        assert loaded.exit_code == 0, loaded.output
        seed_nations(app)
        with app.app_context(), session_scope() as session:
            email = PEOPLE["researcher"][0]
            researcher = auth.create_user(session, email, "Robin", PASSWORD)
            auth.grant_role(session, researcher, "researcher", None)
            token, _ = auth.create_api_token(session, researcher, "gunicorn test")
            refs = [create_draft(session, researcher, COMPLETE).ref for _ in range(drafts)]
    finally:
        get_engine(app).dispose()
    return url, token, refs


def worker_pids(folder: Path, kind: str) -> set[str]:
    """The workers that wrote figures of ``kind`` (counter, histogram) to the folder."""
    return {path.stem.rsplit("_", 1)[1] for path in folder.glob(f"{kind}_*.db")}


def test_gunicorn_serves_with_two_workers_whose_metrics_are_summed(tmp_path):
    drafts = 8
    url, token, refs = prepared_database(tmp_path, drafts)
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_99999999.db").write_bytes(b"left by an earlier run")
    environment = {
        "DATABASE_URL": url,
        "SECRET_KEY": "gunicorn-test-key",
        "PORTAL_INSTANCE": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "PORTAL_METRICS_TOKEN": TOKEN,
    }
    with gunicorn(environment, tmp_path, workers=2) as host:
        assert not (folder / "counter_99999999.db").exists()  # emptied at start
        # The health checks that awaited the start (one or more, by the machine's load).
        started = samples(host.call("/metrics", token=TOKEN).text)

        # One worker is held by a call still being sent, so the other answers the rest;
        # then the held call is completed and answered by the first. Both write figures.
        paths = ["/healthz"] * 9 + ["/readyz"] * 4
        with ThreadPoolExecutor(max_workers=4) as pool:
            with host.holding_a_worker("/healthz") as held_health:
                answers = list(pool.map(lambda path: host.call(path).status, paths))
            *others, last = refs
            submit = "/api/v1/requests/{}/actions/submit"
            with host.holding_a_worker(
                submit.format(last), "POST", json_body={}, token=token
            ) as held_submit:
                submits = list(
                    pool.map(
                        lambda ref: (
                            host.call(submit.format(ref), "POST", json_body={}, token=token).status
                        ),
                        others,
                    )
                )
        assert answers == [200] * len(paths)
        assert held_health.status == 200
        assert submits == [200] * (drafts - 1)
        assert held_submit.status == 200
        assert len(worker_pids(folder, "histogram")) == 2, "one worker answered every call"
        assert len(worker_pids(folder, "counter")) == 2, "one worker performed every action"

        answer = host.call("/metrics", token=TOKEN)
        assert answer.status == 200
        figures = samples(answer.text)
        assert moved(started, figures, requests_of("ops.alive")) == 10
        assert moved(started, figures, requests_of("ops.ready")) == 4
        assert figures[action("submit", "done")] == drafts  # whichever worker performed it
