"""Closing early ends the agreement in force (found in a browser walk: after the close,
and even once the request was closed, its agreement read "Active — in force", and the
next steps told the Nations that access was active until the term's end). Migration
0029 marks the agreements of requests closed early before it; its downgrade puts them
back to active. SQLite and PostgreSQL."""

import pytest
from sqlalchemy import text

from portal import migrate
from portal.db import session_scope

from helpers import module_database, sign_in


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A database of this test's own: it is migrated down and up again."""
    with module_database(migrated_template, tmp_path) as url:
        yield url


def statuses(app) -> dict[str, str]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(
            text(
                "SELECT r.ref, a.status FROM agreement a "
                "JOIN access_request r ON r.id = a.request_id"
            )
        ).all()
        return dict(rows)


def test_closing_early_ends_the_agreement_and_the_pages_say_so(app, flow):
    ref, lasting = flow.ended(), flow.active()
    assert statuses(app) == {ref: "ended", lasting: "active"}
    client = app.test_client()
    sign_in(client, "s1.cedar@example.org")
    page = client.get(f"/requests/{ref}").text
    assert 'status-ended">Ended early' in page
    assert "closed early by the researcher: the data is returned or destroyed" in page
    assert "Access is active under the signed agreement" not in page
    researcher = app.test_client()
    sign_in(researcher, "researcher@example.org")
    mine = researcher.get(f"/requests/{ref}").text
    assert "You attest the data&#39;s destruction or return next" in mine


def test_migration_0029_ends_the_agreements_of_requests_closed_before_it(app, flow, runner):
    ref, lasting = flow.ended(), flow.active()
    app.extensions["portal.db"].dispose()
    migrate.downgrade(app.config["DATABASE_URL"], "0028")
    assert statuses(app) == {ref: "active", lasting: "active"}, "as the old code kept them"
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert statuses(app) == {ref: "ended", lasting: "active"}
