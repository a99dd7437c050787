"""The database layer: one commit per successful request, nothing written otherwise,
constraints enforced by the database itself."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask import abort
from sqlmodel import select

from portal.auth.models import User
from portal.db import get_engine, get_session, session_scope
from portal.registry.models import Nation

from helpers import ON_POSTGRES


def nation_count(app) -> int:
    with app.app_context(), session_scope() as session:
        return len(session.exec(select(Nation)).all())


def add_nation(slug: str) -> None:
    get_session().add(Nation(slug=slug, name=slug, framework="OCAP"))
    get_session().flush()


@pytest.fixture
def routes(app):
    @app.route("/t/ok", methods=["POST"])
    def ok():
        add_nation("written")
        return "ok"

    @app.route("/t/refused", methods=["POST"])
    def refused():
        add_nation("refused")
        return "no", 409

    @app.route("/t/aborted", methods=["POST"])
    def aborted():
        add_nation("aborted")
        abort(403)

    @app.route("/t/crash", methods=["POST"])
    def crash():
        add_nation("crashed")
        raise RuntimeError("deliberate")

    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def test_a_successful_request_commits(app, routes):
    assert routes.post("/t/ok").status_code == 200
    assert nation_count(app) == 1


@pytest.mark.parametrize(
    "path, status", [("/t/refused", 409), ("/t/aborted", 403), ("/t/crash", 500)]
)
def test_a_failed_request_writes_nothing(app, routes, path, status):
    assert routes.post(path).status_code == status
    assert nation_count(app) == 0


def test_session_scope_rolls_back_on_error(app):
    with app.app_context(), pytest.raises(RuntimeError), session_scope() as session:
        session.add(Nation(slug="x", name="x", framework="OCAP"))
        session.flush()
        raise RuntimeError("deliberate")
    assert nation_count(app) == 0


def test_enums_are_checked_by_the_database(app):
    with (
        app.app_context(),
        get_engine().connect() as connection,
        pytest.raises(sa.exc.IntegrityError),
    ):
        connection.execute(
            sa.text(
                "INSERT INTO nation (slug, name, framework, review_quorum, min_approvals,"
                " residency, output_review_required, small_cell_threshold, created_at,"
                " updated_at) VALUES"
                " ('x', 'x', 'OCA', 1, 1, '[]', true, 5, :now, :now)"
            ),
            {"now": datetime.now(UTC)},
        )


def test_foreign_keys_are_enforced(app):
    with app.app_context(), pytest.raises(sa.exc.IntegrityError), session_scope() as session:
        session.execute(
            sa.text(
                "INSERT INTO role_membership (user_id, role, nation_id, granted_at)"
                " VALUES (12345, 'researcher', NULL, :now)"
            ),
            {"now": datetime.now(UTC)},
        )


def test_nation_roles_need_a_nation(app, make_user):
    user_id = make_user("someone@example.org")
    with app.app_context(), pytest.raises(sa.exc.IntegrityError), session_scope() as session:
        session.execute(
            sa.text(
                "INSERT INTO role_membership (user_id, role, nation_id, granted_at)"
                " VALUES (:user, 'steward', NULL, :now)"
            ),
            {"user": user_id, "now": datetime.now(UTC)},
        )


def test_timestamps_come_back_in_utc(app, make_user):
    make_user("someone@example.org")
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User)).one()
        eastern = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
        user.created_at = eastern
    with app.app_context(), session_scope() as session:
        stored = session.exec(select(User)).one().created_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == eastern


def test_naive_timestamps_are_refused(app, make_user):
    make_user("someone@example.org")
    with app.app_context(), pytest.raises(sa.exc.StatementError), session_scope() as session:
        session.exec(select(User)).one().created_at = datetime(2026, 1, 1)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite pragmas")
def test_sqlite_uses_wal_and_foreign_keys(app):
    with app.app_context(), get_engine().connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
