"""obligation.state may be superseded: what an edition still asked of a Nation that
decided afresh on a later edition, whose conditions are owed instead

Until now a renewal or amendment added the new decisions' obligations beside the old
ones, which stayed owing: a condition kept was owed twice, and the old edition's "at the
end" fell due on the old term's last day. The upgrade supersedes what is still open,
not met or reported under an edition that a later one replaced, for each Nation that
approved that later edition (the workflow does so from now on: lifecycle.supersede).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("open", "reported", "met", "not_met", "waived")
AFTER = (*BEFORE, "superseded")


def _states_may_be(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("obligation", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_obligation_obligation_state"), type_="check")
        batch_op.alter_column(
            "state", type_=sa.String(length=max(map(len, values))), existing_nullable=False
        )
        listed = ", ".join(f"'{value}'" for value in values)
        batch_op.create_check_constraint("obligation_state", f"state IN ({listed})")


def upgrade() -> None:
    _states_may_be(AFTER)
    # Made before a later edition took effect, owed to a Nation that approved that
    # edition's revision (every Nation of an edition in force approved it).
    op.execute(
        "UPDATE obligation SET state = 'superseded' "
        "WHERE state IN ('open', 'not_met', 'reported') AND EXISTS ("
        " SELECT 1 FROM agreement a JOIN decision d"
        " ON d.request_id = a.request_id AND d.revision = a.revision"
        " WHERE a.request_id = obligation.request_id AND a.edition > 1"
        " AND a.effective_at IS NOT NULL AND a.effective_at > obligation.created_at"
        " AND d.nation_id = obligation.nation_id AND d.outcome = 'approve')"
    )


def downgrade() -> None:
    # Before 0027 nothing was superseded: the old edition's obligations stayed open.
    op.execute("UPDATE obligation SET state = 'open' WHERE state = 'superseded'")
    _states_may_be(BEFORE)
