"""Migration 0027 supersedes, in a database kept before it, what a replaced edition still
asked of each Nation that approved the edition in force; its downgrade puts them back to
open, as they were kept before. SQLite and PostgreSQL."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from portal import migrate
from portal.db import session_scope

from helpers import module_database
from obligated import SUMMARY, YEARLY
from renewals import obligation_rows, renewed_with


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A database of this test's own: it is migrated down and up again."""
    with module_database(migrated_template, tmp_path) as url:
        yield url


def test_obligations_kept_before_0027_are_superseded_by_the_upgrade(app, owed, runner):
    ref = owed.active()
    owed.report("researcher", ref, SUMMARY)
    owed.assess("heron_steward", ref, SUMMARY, "met")  # settled: stays as it is
    owed.report("researcher", ref, "aggregate_only")  # reported: still owed
    owed.set_due(ref, YEARLY, date.today() - timedelta(days=10))  # overdue: still owed
    never_renewed = owed.active()
    renewed_with(owed, ref, cedar=["return_or_destroy"])
    after = obligation_rows(app, ref)
    assert [(row.state, row.superseded_by) for row in after] == [
        ("superseded", 2),
        ("superseded", 2),
        ("open", 2),
        ("reported", 2),
        ("met", None),
        ("open", None),
    ]
    untouched = obligation_rows(app, never_renewed)
    app.extensions["portal.db"].dispose()

    migrate.downgrade(app.config["DATABASE_URL"], "0026")
    with app.app_context(), session_scope() as session:
        kept = dict(session.exec(text("SELECT id, state FROM obligation")).all())
    assert [kept[row.id] for row in after] == ["open", "open", "open", "reported", "met", "open"]
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    assert obligation_rows(app, ref) == after
    assert obligation_rows(app, never_renewed) == untouched
