"""Migration 0028 moves the edits a researcher made after a submission, kept in place
before it, into pending_fields, and puts the request back as submitted; its downgrade
puts the edits back in place. SQLite and PostgreSQL."""

import json

import pytest
from sqlalchemy import text

from portal import migrate
from portal.db import session_scope
from portal.requests import service

from flows import COMPLETE
from helpers import module_database
from renewals import request_of

EDITED = "Edited after a submission, never submitted (fictional)."
ROBIN = COMPLETE["team"][0]
ALEX = {"name": "Alex Analyst (fictional)", "email": "alex@example.org", "role": "Analyst"}


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A database of this test's own: it is migrated down and up again."""
    with module_database(migrated_template, tmp_path) as url:
        yield url


def as_kept(app, ref: str) -> tuple[dict, dict | None]:
    """The request's fields as they stand, and its pending edits."""
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        return service.snapshot(session, request), request.pending_fields


def test_edits_kept_in_place_before_0028_wait_as_pending_after_it(app, flow, runner):
    returned = flow.draft()
    flow.do("researcher", "submit", returned)
    flow.do("coordinator", "screen", returned, outcome="return", comment="Which ages?")
    flow.edit("researcher", returned, purpose=EDITED, datasets=["cedar-health"])
    amended = flow.active()
    flow.do("researcher", "amend", amended)
    flow.edit("researcher", amended, team=[ROBIN, ALEX])
    untouched = flow.active()
    refs = (returned, amended, untouched)
    before = {ref: as_kept(app, ref) for ref in refs}
    assert before[returned][1]["purpose"] == EDITED
    assert before[amended][1]["team"] == [ROBIN, ALEX]
    assert before[untouched][1] is None
    app.extensions["portal.db"].dispose()

    migrate.downgrade(app.config["DATABASE_URL"], "0027")
    with app.app_context(), session_scope() as session:
        kept = {
            ref: (purpose, json.loads(team) if isinstance(team, str) else team)
            for ref, purpose, team in session.exec(
                text("SELECT ref, purpose, team FROM access_request")
            ).all()
        }
        asked = session.exec(
            text(
                "SELECT d.slug FROM request_dataset rd JOIN dataset d ON d.id = rd.dataset_id"
                " JOIN access_request r ON r.id = rd.request_id WHERE r.ref = :ref"
            ),
            params={"ref": returned},
        ).all()
    assert kept == {  # the edits back in place, as the code before 0028 kept them
        returned: (EDITED, [ROBIN]),
        amended: (COMPLETE["purpose"], [ROBIN, ALEX]),
        untouched: (COMPLETE["purpose"], [ROBIN]),
    }
    assert [slug for (slug,) in asked] == ["cedar-health"]
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    assert {ref: as_kept(app, ref) for ref in refs} == before
