"""Migration 0031 gives each Nation's track the revision its status is about, in a
database kept before it: the upgrade finds what Context.move_track stamps now."""

import pytest
from sqlalchemy import text

from portal import migrate
from portal.db import session_scope

from helpers import module_database


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A database of this test's own: it is migrated down and up again."""
    with module_database(migrated_template, tmp_path) as url:
        yield url


def _revisions(app) -> dict[int, tuple[str, int]]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(text("SELECT id, status, revision FROM nation_track")).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_the_upgrade_fills_each_tracks_revision_as_the_code_stamps_it(app, flow, runner):
    screened_again = flow.to_review()  # Red Cedar approves revision 1, Blue Heron asks
    flow.do("cedar_steward1", "review", screened_again, "red-cedar")
    flow.do("cedar_steward2", "review", screened_again, "red-cedar")
    flow.do("cedar_rep", "decide", screened_again, "red-cedar")
    flow.do("heron_steward", "review", screened_again, "blue-heron", recommendation="changes",
            comment="Say how results come back to us.")  # fmt: skip
    flow.edit("researcher", screened_again, community_benefit="Results returned first.")
    flow.do("researcher", "submit", screened_again)  # revision 2, in screening
    flow.active()  # both approved revision 1
    flow.to_review()  # both reviewing revision 1
    stamped = _revisions(app)
    assert sorted(stamped.values()) == [("approved", 1)] * 3 + [("review", 1)] * 3
    app.extensions["portal.db"].dispose()

    migrate.downgrade(app.config["DATABASE_URL"], "0030")
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert _revisions(app) == stamped
