"""What operators and their machines see: whether the portal is alive (/healthz) and
ready (/readyz), its metrics (/metrics, for the holder of PORTAL_METRICS_TOKEN), a log
line with a request id for every request, and the real client behind trusted proxies.

The three routes take no sign-in, no CSRF token and no throttle, set no cookie and are
never cached; /healthz touches no database, and the app-wide hooks that would (the
policy's reload, the two-factor gate) let this blueprint by.
"""

import hmac
import logging
import time

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import logs, metrics, migrate
from portal.db import READ_SNAPSHOT, get_engine
from portal.policy.models import PolicyRule, RulesVersion

bp = Blueprint("ops", __name__)
request_log = logging.getLogger("portal.request")

# Each check's word when it fails; the body names every check and whether it passed.
NOT_ANSWERING = "the database does not answer"
NOT_CHECKED = "not checked: the database does not answer"


def init_app(app: Flask) -> None:
    """Call first in create_app: the request id must exist before any other hook logs,
    and the request's line is written after every other hook (the commit included)."""
    logs.configure(app)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_blueprint(bp)
    if hops := app.config["TRUSTED_PROXIES"]:
        # Behind that many proxies, each appending to X-Forwarded-*: the client's address
        # (audit events, throttles), scheme and host are what the outermost one saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _start_request() -> None:
    g.request_id = logs.request_id_from(request.headers.get(logs.REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    seconds = time.perf_counter() - g.pop("request_started", time.perf_counter())
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    metrics.observe_request(endpoint, request.method, response.status_code, seconds)
    response.headers[logs.REQUEST_ID_HEADER] = g.get("request_id") or ""
    request_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "user_id": _signed_in_user_id(),
        },
    )
    return response


def _signed_in_user_id() -> int | None:
    """The id of whoever this request signed in as, if anyone was loaded; read from the
    object's identity, so nothing is asked of the database (the session is closed)."""
    state = sa.inspect(g.get("_login_user"), raiseerr=False)
    return state.identity[0] if state is not None and state.identity else None


def _unstored(response: Response, status: int = 200) -> tuple[Response, int]:
    response.headers["Cache-Control"] = "no-store"
    return response, status


@bp.get("/healthz")
def alive():
    """The process answers: nothing else is asked."""
    return _unstored(jsonify(status="ok"))


@bp.get("/readyz")
def ready():
    """Ready to serve: the database answers, it is migrated to this code's head, and the
    governance rules are loaded. 503 names each check that failed."""
    checks = readiness()
    failed = [name for name, problem in checks.items() if problem]
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
        "failed": failed,
    }
    return _unstored(jsonify(body), 503 if failed else 200)


def readiness() -> dict[str, str | None]:
    """Each check and what is wrong with it (None: nothing)."""
    head = migrate.head_revision()
    try:
        with get_engine().connect().execution_options(**{READ_SNAPSHOT: True}) as connection:
            revision = migrate.database_revision(connection)
            at_head = revision == head
            rules = _rules_problem(connection) if at_head else "not checked: migrations not at head"
    except sa.exc.SQLAlchemyError:
        current_app.logger.warning("readiness: the database does not answer", exc_info=True)
        return {"database": NOT_ANSWERING, "migrations": NOT_CHECKED, "rules": NOT_CHECKED}
    return {
        "database": None,
        "migrations": None if at_head else f"at {revision or 'none'}, not at {head}",
        "rules": rules,
    }


def _rules_problem(connection: sa.Connection) -> str | None:
    lines = connection.execute(sa.select(sa.func.count()).select_from(PolicyRule)).scalar()
    version = connection.execute(sa.select(sa.func.max(RulesVersion.number))).scalar()
    return None if lines and version is not None else "no governance rules loaded"


@bp.get("/metrics")
def serve_metrics():
    """Prometheus' text format, for the bearer of the configured token; 404 without one."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        abort(404)
    scheme, _, sent = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        sent.strip().encode(), expected.encode()
    ):
        response = Response("A bearer token is needed.\n", 401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _unstored(response, 401)
    return _unstored(Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE))
