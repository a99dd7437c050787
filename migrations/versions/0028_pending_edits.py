"""access_request.pending_fields: a researcher's edits after a submission wait there,
theirs alone, until they submit them; access_request.team_in_force: while an amendment
is open, the team of the edition in force stays on the requesting side

Until now an edit made after a submission (a request returned for changes, a renewal's
or amendment's draft) changed the request's fields at once: every other person read the
unsubmitted text, a dataset added brought its Nation in, and a team changed who was on
the requesting side. From now on (requests.service.save_edits) those edits wait in
pending_fields. The upgrade moves the edits already made the same way: for a request
whose researcher is editing it after a submission, fields that differ from the revision
they were set from (the one returned; for a renewal's or amendment's draft, the one the
edition in force was issued on) go to pending_fields, and the request's fields and
datasets go back to that revision's. A request withdrawn or refused while its researcher
was editing it kept those edits in place too: its fields go back to its last revision,
and the edits, which can never be submitted now, are dropped. Each open amendment gets
its team_in_force from the revision the edition in force was issued on. The downgrade
puts the pending edits back in place.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The fields a revision keeps, datasets aside (requests.fields.LABELS, as of this revision).
COLUMNS = (
    "title",
    "purpose",
    "methods",
    "community_benefit",
    "harm_assessment",
    "ethics_approval",
    "storage_location",
    "retention_days",
    "team",
    "agreement_language",
)

TYPES = {"team": sa.JSON, "retention_days": sa.Integer}
# What a revision made before a field existed reads as (requests.fields.DEFAULTS).
DEFAULTS = {"agreement_language": "en"}
access_request = sa.table(
    "access_request",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("amendment", sa.String),
    sa.column("current_revision", sa.Integer),
    sa.column("pending_fields", sa.JSON),
    sa.column("team_in_force", sa.JSON),
    *(sa.column(name, TYPES.get(name, sa.String)) for name in COLUMNS),
)
request_dataset = sa.table(
    "request_dataset", sa.column("request_id", sa.Integer), sa.column("dataset_id", sa.Integer)
)
dataset = sa.table("dataset", sa.column("id", sa.Integer), sa.column("slug", sa.String))
request_revision = sa.table(
    "request_revision",
    sa.column("request_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("fields", sa.JSON),
)
agreement = sa.table(
    "agreement",
    sa.column("request_id", sa.Integer),
    sa.column("edition", sa.Integer),
    sa.column("revision", sa.Integer),
    sa.column("effective_at", sa.DateTime),
)


def upgrade() -> None:
    with op.batch_alter_table("access_request") as batch:
        batch.add_column(sa.Column("pending_fields", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("team_in_force", sa.JSON(), nullable=True))
    connection = op.get_bind()
    slugs = dict(connection.execute(sa.select(dataset.c.id, dataset.c.slug)).all())
    no_amendment = access_request.c.amendment.is_(None)
    editing = sa.or_(
        access_request.c.amendment.in_(("draft", "changes_requested")),
        sa.and_(no_amendment, access_request.c.status == "changes_requested"),
    )
    ended = sa.and_(no_amendment, access_request.c.status.in_(("withdrawn", "refused")))
    rows = connection.execute(
        sa.select(access_request, editing.label("editing")).where(
            access_request.c.current_revision > 0, sa.or_(editing, ended)
        )
    ).all()
    _keep_teams_in_force(connection)
    for row in rows:
        base = _revision_fields(connection, row.id, _base_revision(connection, row))
        live = {name: getattr(row, name) for name in COLUMNS}
        live["datasets"] = sorted(
            slugs[found]
            for found in connection.execute(
                sa.select(request_dataset.c.dataset_id).where(
                    request_dataset.c.request_id == row.id
                )
            ).scalars()
        )
        if base is None or all(live[name] == base[name] for name in live):
            continue
        _put_back(connection, row.id, base, {slug: id for id, slug in slugs.items()})
        if row.editing:  # else withdrawn or refused: the edits can never be submitted
            connection.execute(
                access_request.update()
                .where(access_request.c.id == row.id)
                .values(pending_fields=live)
            )


def _keep_teams_in_force(connection) -> None:
    """Each open amendment's team_in_force: the team of the edition in force's revision."""
    open_now = connection.execute(
        sa.select(access_request.c.id).where(access_request.c.amendment.is_not(None))
    ).scalars()
    for request_id in list(open_now):
        fields = _revision_fields(connection, request_id, _in_force(connection, request_id))
        if fields is not None:
            connection.execute(
                access_request.update()
                .where(access_request.c.id == request_id)
                .values(team_in_force=fields["team"] or [])
            )


def _in_force(connection, request_id: int) -> int | None:
    """The revision the edition in force was issued on."""
    return connection.execute(
        sa.select(agreement.c.revision)
        .where(agreement.c.request_id == request_id, agreement.c.effective_at.is_not(None))
        .order_by(agreement.c.edition.desc())
        .limit(1)
    ).scalar()


def _base_revision(connection, row) -> int:
    """The revision the request's fields were last set from: the one returned, or for a
    renewal's or amendment's draft the one the edition in force was issued on."""
    if row.amendment != "draft":
        return row.current_revision
    return _in_force(connection, row.id) or row.current_revision


def _revision_fields(connection, request_id: int, number: int) -> dict | None:
    """A revision's fields, each one there (a field it predates reads as its default)."""
    found = connection.execute(
        sa.select(request_revision.c.fields).where(
            request_revision.c.request_id == request_id, request_revision.c.number == number
        )
    ).scalar()
    if found is None:
        return None
    fields = {**{name: DEFAULTS.get(name) for name in COLUMNS}, **found}
    fields["datasets"] = sorted(found.get("datasets") or [])  # as the code sorts them now
    return fields


def _put_back(connection, request_id: int, fields: dict, ids: dict[str, int]) -> None:
    """Set the request's fields and datasets to ``fields`` (a revision's)."""
    connection.execute(
        access_request.update()
        .where(access_request.c.id == request_id)
        .values({name: fields.get(name) for name in COLUMNS if name in fields})
    )
    connection.execute(request_dataset.delete().where(request_dataset.c.request_id == request_id))
    wanted = [ids[slug] for slug in fields.get("datasets", []) if slug in ids]
    if wanted:
        connection.execute(
            request_dataset.insert(),
            [{"request_id": request_id, "dataset_id": found} for found in wanted],
        )


def downgrade() -> None:
    connection = op.get_bind()
    ids = {
        slug: found for found, slug in connection.execute(sa.select(dataset.c.id, dataset.c.slug))
    }
    pending = connection.execute(
        sa.select(access_request.c.id, access_request.c.pending_fields).where(
            access_request.c.pending_fields.is_not(None)
        )
    ).all()
    for request_id, fields in pending:
        if fields is not None:  # a JSON null reads as None too
            _put_back(connection, request_id, fields, ids)
    with op.batch_alter_table("access_request") as batch:
        batch.drop_column("team_in_force")
        batch.drop_column("pending_fields")
