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


def as_kept(app, ref: str) -> tuple[dict, dict | None, list | None]:
    """The request's fields as they stand, its pending edits, its team in force."""
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        return service.snapshot(session, request), request.pending_fields, request.team_in_force


def run_sql(app, sql: str, **params) -> list:
    with app.app_context(), session_scope() as session:
        result = session.exec(text(sql), params=params)
        return result.all() if result.returns_rows else []


def test_edits_kept_in_place_before_0028_wait_as_pending_after_it(app, flow, runner):
    returned = flow.draft()
    flow.do("researcher", "submit", returned)
    flow.do("coordinator", "screen", returned, outcome="return", comment="Which ages?")
    flow.edit("researcher", returned, purpose=EDITED, datasets=["cedar-health"])
    # An earlier amendment was submitted, then withdrawn: the edition in force was issued
    # on revision 1, not on the latest (2), and the new draft's edits are measured from it.
    amended = flow.active()
    flow.do("researcher", "amend", amended)
    flow.edit("researcher", amended, purpose="An amendment withdrawn (fictional).")
    flow.do("researcher", "submit", amended)
    flow.do("researcher", "withdraw", amended)
    flow.do("researcher", "amend", amended)
    flow.edit("researcher", amended, team=[ROBIN, ALEX])
    returned_unedited = flow.draft()
    flow.do("researcher", "submit", returned_unedited)
    flow.do("coordinator", "screen", returned_unedited, outcome="return", comment="Which?")
    withdrawn = flow.draft()
    flow.do("researcher", "submit", withdrawn)
    untouched = flow.active()
    refs = (returned, amended, returned_unedited, withdrawn, untouched)
    before = {ref: as_kept(app, ref) for ref in refs}
    assert before[returned][1]["purpose"] == EDITED
    assert before[amended][1]["team"] == [ROBIN, ALEX]
    assert before[amended][0]["purpose"] == COMPLETE["purpose"], "the edition in force's"
    assert [before[ref][1] for ref in (returned_unedited, withdrawn, untouched)] == [None] * 3
    app.extensions["portal.db"].dispose()

    migrate.downgrade(app.config["DATABASE_URL"], "0027")
    kept = {
        ref: (purpose, json.loads(team) if isinstance(team, str) else team)
        for ref, purpose, team in run_sql(app, "SELECT ref, purpose, team FROM access_request")
    }
    asked = run_sql(
        app,
        "SELECT d.slug FROM request_dataset rd JOIN dataset d ON d.id = rd.dataset_id"
        " JOIN access_request r ON r.id = rd.request_id WHERE r.ref = :ref",
        ref=returned,
    )
    assert kept == {  # the edits back in place, as the code before 0028 kept them
        returned: (EDITED, [ROBIN]),
        amended: (COMPLETE["purpose"], [ROBIN, ALEX]),
        returned_unedited: (COMPLETE["purpose"], [ROBIN]),
        withdrawn: (COMPLETE["purpose"], [ROBIN]),
        untouched: (COMPLETE["purpose"], [ROBIN]),
    }
    assert [slug for (slug,) in asked] == ["cedar-health"]
    # What the code before 0028 also left: edits in place on a request then withdrawn,
    # and revisions made before agreement_language existed (migration 0024).
    run_sql(app, "UPDATE access_request SET purpose = :p WHERE ref = :ref", p=EDITED, ref=withdrawn)
    run_sql(app, "UPDATE access_request SET status = 'withdrawn' WHERE ref = :ref", ref=withdrawn)
    for ref in (returned, returned_unedited):
        [(number, fields)] = run_sql(
            app,
            "SELECT v.id, v.fields FROM request_revision v JOIN access_request r"
            " ON r.id = v.request_id WHERE r.ref = :ref",
            ref=ref,
        )
        fields = json.loads(fields) if isinstance(fields, str) else fields
        del fields["agreement_language"]
        run_sql(
            app,
            "UPDATE request_revision SET fields = :f WHERE id = :id",
            f=json.dumps(fields),
            id=number,
        )
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    after = {ref: as_kept(app, ref) for ref in refs}
    assert after[withdrawn] == (before[withdrawn][0], None, None), "as submitted, nothing pending"
    assert after[amended][2] == [ROBIN], "the amendment's team in force"
    assert {ref: after[ref] for ref in refs if ref != withdrawn} == {
        ref: before[ref] for ref in refs if ref != withdrawn
    }
