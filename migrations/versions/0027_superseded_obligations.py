"""obligation.superseded_by, and the state superseded: a later edition's conditions
replace the obligations made from an earlier one's

Until now a renewal or amendment added the new decisions' obligations beside the old
ones, which stayed owing: a condition kept was owed twice, and the old edition's "at the
end" fell due on the old term's last day. From now on (lifecycle.supersede) each
obligation of a Nation that approved the new edition records it in superseded_by; one
not yet due then becomes superseded, one overdue or reported stays owed as its last
report. The upgrade does the same for the editions that took effect before it (a Nation
an edition left out keeps its "at the end" on the old term's end: move it by hand if need
be). The downgrade turns superseded back into open, as the old code kept them.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("open", "reported", "met", "not_met", "waived")
AFTER = (*BEFORE, "superseded")
UNSETTLED = ("open", "not_met", "reported")

obligation = sa.table(
    "obligation",
    sa.column("id", sa.Integer),
    sa.column("request_id", sa.Integer),
    sa.column("nation_id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("next_due", sa.Date),
    sa.column("created_at", portal.db.UTCDateTime(timezone=True)),
    sa.column("superseded_by", sa.Integer),
)
agreement = sa.table(
    "agreement",
    sa.column("request_id", sa.Integer),
    sa.column("edition", sa.Integer),
    sa.column("revision", sa.Integer),
    sa.column("effective_at", portal.db.UTCDateTime(timezone=True)),
)
decision = sa.table(
    "decision",
    sa.column("request_id", sa.Integer),
    sa.column("nation_id", sa.Integer),
    sa.column("revision", sa.Integer),
    sa.column("outcome", sa.String),
)


def _states_may_be(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("obligation", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_obligation_obligation_state"), type_="check")
        batch_op.alter_column(
            "state", type_=sa.String(length=max(map(len, values))), existing_nullable=False
        )
        listed = ", ".join(f"'{value}'" for value in values)
        batch_op.create_check_constraint("obligation_state", f"state IN ({listed})")


def upgrade() -> None:
    with op.batch_alter_table("obligation", recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
    _states_may_be(AFTER)
    _supersede_what_later_editions_replaced(op.get_bind())


def _supersede_what_later_editions_replaced(connection: sa.Connection) -> None:
    later = connection.execute(
        sa.select(agreement.c.request_id, agreement.c.edition, agreement.c.effective_at)
        .add_columns(decision.c.nation_id)
        .join(
            decision,
            (decision.c.request_id == agreement.c.request_id)
            & (decision.c.revision == agreement.c.revision)
            & (decision.c.outcome == "approve"),
        )
        .where(agreement.c.edition > 1, agreement.c.effective_at.is_not(None))
        .order_by(agreement.c.edition)
    ).all()
    editions: dict[tuple[int, int], list] = {}  # (request, Nation): editions it approved
    for request_id, edition, effective_at, nation_id in later:
        editions.setdefault((request_id, nation_id), []).append((edition, effective_at))
    rows = connection.execute(
        sa.select(obligation).where(
            obligation.c.state.in_(UNSETTLED), obligation.c.superseded_by.is_(None)
        )
    ).all()
    for row in rows:
        replacing = [
            (edition, effective_at)
            for edition, effective_at in editions.get((row.request_id, row.nation_id), [])
            if effective_at > row.created_at
        ]
        if not replacing:
            continue
        edition, effective_at = replacing[0]  # the first edition made after it
        # Dues are dates in the server's own time zone (date.today()), as the workflow reads them.
        overdue = row.next_due is not None and row.next_due < effective_at.astimezone().date()
        owed = row.state == "reported" or overdue
        connection.execute(
            obligation.update()
            .where(obligation.c.id == row.id)
            .values(superseded_by=edition, state=row.state if owed else "superseded")
        )


def downgrade() -> None:
    op.execute("UPDATE obligation SET state = 'open' WHERE state = 'superseded'")
    _states_may_be(BEFORE)
    with op.batch_alter_table("obligation", recreate="auto") as batch_op:
        batch_op.drop_column("superseded_by")
