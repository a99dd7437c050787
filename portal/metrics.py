"""Prometheus metrics: how long requests take, what the workflow did, how the jobs went.

Each figure is counted in one place: requests in portal/ops.py, workflow actions in
perform(), mail in the outbox's deliver(), expiry runs in portal/jobs/expiry.py, every
periodic job's runs in portal/jobs/runner.py.
Under gunicorn (portal/gunicorn_conf.py) PROMETHEUS_MULTIPROC_DIR is set before any
worker imports this module, so every worker writes its figures to files there and
``exposition()`` sums them; without it, the figures are this process's own.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from portal.errors import Conflict, Forbidden, NotFound, Refused, ValidationError

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a web request, by endpoint, method and status class (2xx, 4xx, ...).",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WORKFLOW_ACTIONS = Counter(
    "portal_workflow_actions",
    "Workflow commands performed, by command and outcome: done, or refused_<status>.",
    ["command", "outcome"],
)
JOB_OUTCOMES = Counter(
    "portal_job_outcomes",
    "Outcomes of the background work: mail sent, failed or gave_up (a message each), "
    "expiry runs done or failed, each periodic job's runs done, failed or gave_up.",
    ["job", "outcome"],
)

# The status each refusal of a service answers with (as the pages and the API map them).
REFUSAL_STATUS: dict[type[Exception], int] = {
    ValidationError: 422,
    NotFound: 404,
    Forbidden: 403,
    Refused: 409,
    Conflict: 409,
}


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(endpoint, method, status_class(status)).observe(seconds)


def action_outcome(error: BaseException | None) -> str:
    """``done``; ``refused_<status>`` for a refusal; ``error`` for anything unforeseen."""
    if error is None:
        return "done"
    for kind, status in REFUSAL_STATUS.items():
        if isinstance(error, kind):
            return f"refused_{status}"
    return "error"


def count_action(command: str, error: BaseException | None = None) -> None:
    WORKFLOW_ACTIONS.labels(command, action_outcome(error)).inc()


def count_job(job: str, outcome: str, amount: int = 1) -> None:
    if amount:
        JOB_OUTCOMES.labels(job, outcome).inc(amount)


def exposition() -> bytes:
    """Every figure in Prometheus' text format: every worker's, summed, under gunicorn."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
