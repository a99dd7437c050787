"""nation_track.revision: the revision a Nation's track status is about

A browser walk found the request page showing each Nation's last track state (a previous
round's "Approved", "its stewards are reviewing") while a new revision was screened or
returned, as if of that revision. A track now records the revision its status is about
(Context.move_track stamps it), so a status of an earlier revision reads as such
(workflow.tracks.of_earlier_revision). The upgrade fills it for the tracks there are: a
decided track (approved, refused, revoked) is about the revision of the Nation's latest
decision; any other (in review, awaiting the decision, ended) about the revision the last
screening accepted (the last submitted before the last request.screened event), else the
current revision. The downgrade drops the column.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDED = ("approved", "refused", "revoked")

track = sa.table(
    "nation_track",
    sa.column("id", sa.Integer),
    sa.column("request_id", sa.Integer),
    sa.column("nation_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("revision", sa.Integer),
)
request = sa.table(
    "access_request", sa.column("id", sa.Integer), sa.column("current_revision", sa.Integer)
)
decision = sa.table(
    "decision",
    sa.column("id", sa.Integer),
    sa.column("request_id", sa.Integer),
    sa.column("nation_id", sa.Integer),
    sa.column("revision", sa.Integer),
)
event = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("request_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("details", sa.JSON),
)


def _screened(connection) -> dict[int, int]:
    """Each request's revision the last screening accepted."""
    submitted: dict[int, int] = {}
    screened: dict[int, int] = {}
    rows = connection.execute(
        sa.select(event.c.request_id, event.c.action, event.c.details)
        .where(event.c.action.in_(("request.submitted", "request.screened")))
        .order_by(event.c.id)
    )
    for request_id, action, details in rows:
        if action == "request.submitted":
            submitted[request_id] = int((details or {}).get("revision") or 0)
        elif request_id in submitted:
            screened[request_id] = submitted[request_id]
    return screened


def upgrade() -> None:
    with op.batch_alter_table("nation_track", recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    screened = _screened(connection)
    current = dict(connection.execute(sa.select(request.c.id, request.c.current_revision)).all())
    decided: dict[tuple[int, int], int] = {}
    for request_id, nation_id, number in connection.execute(
        sa.select(decision.c.request_id, decision.c.nation_id, decision.c.revision).order_by(
            decision.c.id
        )
    ):
        decided[(request_id, nation_id)] = number
    for track_id, request_id, nation_id, status in connection.execute(
        sa.select(track.c.id, track.c.request_id, track.c.nation_id, track.c.status)
    ).all():
        number = screened.get(request_id, current.get(request_id, 0))
        if status in DECIDED:
            number = decided.get((request_id, nation_id), number)
        connection.execute(sa.update(track).where(track.c.id == track_id).values(revision=number))
    with op.batch_alter_table("nation_track", recreate="auto") as batch_op:
        batch_op.alter_column("revision", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("nation_track") as batch_op:
        batch_op.drop_column("revision")
