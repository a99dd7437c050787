"""gunicorn's settings for the portal:

    gunicorn -c python:portal.gunicorn_conf 'portal:create_app()'

| variable                 | meaning                              | default                  |
|--------------------------|--------------------------------------|--------------------------|
| PORTAL_BIND              | address and port to listen on        | 127.0.0.1:8000           |
| WEB_CONCURRENCY          | worker processes                     | 2 × cores + 1, at most 8 |
| PROMETHEUS_MULTIPROC_DIR | the workers' metrics (emptied first) | a new temporary folder   |

Metrics: every worker writes its figures to files in PROMETHEUS_MULTIPROC_DIR, so
/metrics (whichever worker answers) sums them all. The variable is set here, in the
master, before any worker imports prometheus_client; the folder is emptied when the
master starts (figures of an earlier run would be added in), and a worker that exits is
marked dead. Access lines are off: the app writes a JSON line per request (portal/ops.py).
"""

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
MAX_DEFAULT_WORKERS = 8  # beyond that, more processes mostly wait on the database
READY_LINE = "Worker ready"


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


_chosen_dir = os.environ.get(MULTIPROCESS_DIR)
metrics_dir = Path(_chosen_dir or tempfile.mkdtemp(prefix="portal-metrics-"))
os.environ[MULTIPROCESS_DIR] = str(metrics_dir)

bind = [os.environ.get("PORTAL_BIND") or "127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
timeout = 60  # rendering and signing an agreement takes a few seconds, never a minute
graceful_timeout = 30
keepalive = 5  # behind a proxy that keeps connections open
accesslog = None
errorlog = "-"


def on_starting(server) -> None:
    """Empty the metrics folder: the figures start from nothing with each master."""
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for path in metrics_dir.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def post_worker_init(worker) -> None:
    """Without REDIS_URL each worker runs the periodic jobs in a thread; a lease row per
    job lets one of them at a time run it (portal/jobs/inline.py). Each worker also
    counts the dashboard's figures in a thread as it starts: the first count of a large
    database takes longer than a request may (portal/transparency/figures.py). What the
    worker has loaded by then stays for its life: left out of the collector's passes
    (portal/longlived.py)."""
    from portal import longlived
    from portal.jobs import inline
    from portal.transparency import figures

    longlived.freeze()  # the modules and the app, kept for the worker's life
    inline.start(worker.wsgi)
    figures.fill_in_background(worker.wsgi)
    # "Booting worker" comes before the app is made; this line says the worker now takes
    # calls, for an operator watching a restart (and for tests that need every worker).
    worker.log.info("%s (pid: %s)", READY_LINE, worker.pid)


def child_exit(server, worker) -> None:
    """A worker that ends keeps its counts, but its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """A folder made here goes with the master; one that was chosen stays."""
    if not _chosen_dir:
        shutil.rmtree(metrics_dir, ignore_errors=True)
