"""Running it for real: health and readiness, the client's address behind proxies, a
request id on every log line, and JSON log lines (portal/ops.py, portal/logs.py). The
metrics, and gunicorn with its conf, are in tests/test_metrics.py."""

import json
import logging

import pytest
from sqlmodel import select

from portal import create_app, logs, migrate
from portal.audit.models import AuditEvent
from portal.db import get_engine, session_scope

from helpers import csrf_token, sign_in, statements_during

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "SESSION_COOKIE_SECURE": False,
    "MAIL_SEND_AFTER_REQUEST": False,
}


@pytest.fixture
def make_app(instance_path):
    made = []

    def make(database_url: str, **config):
        app = create_app(
            {**BASE_CONFIG, "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance_path)}
            | config
        )
        made.append(app)
        return app

    yield make
    for app in made:
        get_engine(app).dispose()


# --- health and readiness -----------------------------------------------------------


def test_alive_touches_no_database_sets_no_cookie_and_is_never_cached(app, client):
    response = None

    def probe():
        nonlocal response
        response = client.get("/healthz")

    assert statements_during(app, probe) == []
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_alive_answers_when_the_database_cannot(make_app, tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.db'}")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["database", "migrations", "rules"]
    assert body["checks"]["database"] == "the database does not answer"
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_when_migrated_to_head_with_the_rules_loaded(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "rules": "ok"},
        "failed": [],
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_not_ready_on_a_database_migrated_to_an_older_revision(make_app, fresh_database_url):
    head = migrate.head_revision()
    script = migrate.ScriptDirectory.from_config(migrate.alembic_config(fresh_database_url))
    older = script.get_revision(head).down_revision
    migrate.upgrade(fresh_database_url, older)
    client = make_app(fresh_database_url).test_client()

    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["migrations", "rules"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == f"at {older}, not at {head}"


def test_not_ready_until_the_rules_are_loaded(make_app, fresh_database_url):
    migrate.upgrade(fresh_database_url)
    app = make_app(fresh_database_url)
    client = app.test_client()

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["rules"]
    assert response.get_json()["checks"]["rules"] == "no governance rules loaded"

    loaded = app.test_cli_runner().invoke(args=["policy", "load"])
    assert loaded.exit_code == 0, loaded.output
    assert client.get("/readyz").status_code == 200


def test_lines_without_a_rules_version_are_not_ready(app, client):
    """Both halves count: policy lines and a version of the rules."""
    with app.app_context(), session_scope() as session:
        session.connection().exec_driver_sql("DELETE FROM policy_rule")
    assert client.get("/readyz").get_json()["failed"] == ["rules"]


# --- behind proxies -------------------------------------------------------------------

CLIENT = "203.0.113.7"  # what the proxy saw
PROXY = "10.0.0.2"  # the proxy itself, the portal's direct peer


def failed_sign_in(client, email: str, forwarded: str):
    page = client.get("/sign-in", environ_base={"REMOTE_ADDR": PROXY})
    return client.post(
        "/sign-in",
        data={
            "email": email,
            "password": "not the password",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": PROXY},
    )


def recorded_addresses(app) -> list[str | None]:
    with app.app_context(), session_scope() as session:
        query = select(AuditEvent.client_address).where(AuditEvent.action == "user.sign_in_failed")
        return list(session.exec(query.order_by(AuditEvent.id)))


@pytest.mark.parametrize(
    ("hops", "forwarded", "recorded"),
    [
        (0, CLIENT, PROXY),  # no proxy trusted: a forged header changes nothing
        (1, CLIENT, CLIENT),
        (1, f"198.51.100.9, {CLIENT}", CLIENT),  # only the hop the proxy added is believed
        (2, f"198.51.100.9, {CLIENT}", "198.51.100.9"),
    ],
)
def test_the_audit_event_records_the_client_the_trusted_proxies_saw(
    make_app, database_url, hops, forwarded, recorded
):
    app = make_app(database_url, TRUSTED_PROXIES=hops)
    assert failed_sign_in(app.test_client(), "nobody@example.org", forwarded).status_code == 401
    assert recorded_addresses(app) == [recorded]


@pytest.mark.parametrize(("hops", "second"), [(0, 429), (1, 401)])
def test_the_throttle_counts_per_real_client(make_app, database_url, hops, second):
    """Two clients behind the proxy, one attempt each: held apart only when the proxy is
    trusted; with none trusted they are one address (the proxy's) and the second waits."""
    app = make_app(database_url, TRUSTED_PROXIES=hops, LIMIT_SIGN_IN_PER_ADDRESS="1 per hour")
    client = app.test_client()
    assert failed_sign_in(client, "one@example.org", "203.0.113.1").status_code == 401
    assert failed_sign_in(client, "two@example.org", "203.0.113.2").status_code == second


def test_a_trusted_proxy_count_must_be_a_whole_number(monkeypatch):
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "one")
    with pytest.raises(RuntimeError, match="PORTAL_TRUSTED_PROXIES must be a whole number"):
        create_app(BASE_CONFIG)


# --- request ids and log lines ----------------------------------------------------------


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "portal.request"]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("probe-1.A_b", True),
        ("x" * 64, True),
        ("x" * 65, False),  # too long
        ("two words", False),
        ("é", False),
        ("", False),
    ],
)
def test_a_sane_request_id_is_kept_else_one_is_made(client, caplog, sent, kept):
    caplog.set_level(logging.INFO, logger="portal")
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    returned = response.headers["X-Request-ID"]
    if kept:
        assert returned == sent
    else:
        assert returned != sent
        assert len(returned) == 32
        assert returned.isalnum()
    [line] = request_lines(caplog)
    assert line.request_id == returned


def test_every_line_of_a_request_carries_its_id(make_app, tmp_path, caplog):
    """The readiness check's own warning (a database that does not answer) and the
    request's line both name the request."""
    caplog.set_level(logging.INFO, logger="portal")
    client = make_app(f"sqlite:///{tmp_path / 'missing' / 'portal.db'}").test_client()
    client.get("/readyz", headers={"X-Request-ID": "ready-1"})
    ours = [r for r in caplog.records if r.name.startswith("portal")]
    assert {r.name for r in ours} == {"portal", "portal.request"}
    assert {r.request_id for r in ours} == {"ready-1"}
    assert client.get("/healthz").headers["X-Request-ID"] != "ready-1"


def test_the_request_line_names_the_request_and_who_made_it(app, client, make_user, caplog):
    caplog.set_level(logging.INFO, logger="portal")
    client.get("/no-such-page")
    [missing] = request_lines(caplog)
    assert (missing.endpoint, missing.status, missing.user_id) == ("unmatched", 404, None)

    user_id = make_user("reader@example.org", "researcher")
    sign_in(client, "reader@example.org")
    caplog.clear()
    client.get("/", headers={"X-Request-ID": "home-1"})
    [home] = request_lines(caplog)
    assert (home.method, home.path, home.endpoint, home.status) == ("GET", "/", "main.home", 200)
    assert home.user_id == user_id
    assert home.duration_ms > 0
    assert home.request_id == "home-1"


def test_a_json_line_parses_with_every_field(client, caplog):
    caplog.set_level(logging.INFO, logger="portal")
    client.get('/healthz?q="quoted"\nnext', headers={"X-Request-ID": "json-1"})
    [record] = request_lines(caplog)
    line = logs.formatter("json").format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["time"].endswith("Z")
    assert (parsed["level"], parsed["logger"], parsed["request_id"]) == (
        "INFO",
        "portal.request",
        "json-1",
    )
    assert parsed["message"] == "GET /healthz 200"
    assert (parsed["method"], parsed["path"], parsed["endpoint"], parsed["status"]) == (
        "GET",
        "/healthz",
        "ops.alive",
        200,
    )
    assert isinstance(parsed["duration_ms"], float)
    assert parsed["user_id"] is None


def portal_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, logs.PortalHandler)]


def test_json_is_the_default_and_text_may_be_chosen(make_app, database_url, capsys):
    make_app(database_url)
    [handler] = portal_handlers()
    assert isinstance(handler.formatter, logs.JsonFormatter)
    app = make_app(database_url, LOG_FORMAT="text")
    [handler] = portal_handlers()  # replaced, never doubled
    assert not isinstance(handler.formatter, logs.JsonFormatter)
    app.test_client().get("/healthz", headers={"X-Request-ID": "text-1"})
    assert "INFO portal.request [text-1] GET /healthz 200" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be json or text"):
        make_app(database_url, LOG_FORMAT="xml")


def test_the_lines_reach_stderr_as_json(make_app, database_url, capsys):
    make_app(database_url).test_client().get("/healthz", headers={"X-Request-ID": "err-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["path"] for line in lines if line.get("request_id") == "err-1"] == ["/healthz"]


def test_the_readiness_check_takes_no_write_lock(app, client):
    """On SQLite a plain transaction takes the write lock at its start; the check reads."""
    seen = statements_during(app, lambda: client.get("/readyz"))
    assert "BEGIN IMMEDIATE" not in seen
