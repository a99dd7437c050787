"""Migration 0027 supersedes, in a database kept before it, what a replaced edition still
asked of each Nation that approved the edition in force; its downgrade puts them back to
open, as they were kept before. SQLite and PostgreSQL."""

import pytest

from portal import migrate

from helpers import module_database
from renewals import obligation_rows, renewed_with


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A database of this test's own: it is migrated down and up again."""
    with module_database(migrated_template, tmp_path) as url:
        yield url


def test_obligations_kept_before_0027_are_superseded_by_the_upgrade(app, owed, runner):
    ref = owed.active()
    owed.report("researcher", ref, "aggregate_only")  # reported: superseded too
    first = owed.active()  # another request, never renewed: nothing of it changes
    renewed_with(owed, ref, cedar=["return_or_destroy"])
    after = obligation_rows(app, ref)
    untouched = obligation_rows(app, first)
    app.extensions["portal.db"].dispose()

    migrate.downgrade(app.config["DATABASE_URL"], "0026")
    kept_before = obligation_rows(app, ref)
    assert [state for _n, _k, state, *_ in kept_before] == ["open"] * 6
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    assert obligation_rows(app, ref) == after
    assert [state for _n, _k, state, *_ in after].count("superseded") == 5
    assert obligation_rows(app, first) == untouched
