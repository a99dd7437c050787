"""agreement status ended: the edition in force when its researcher closed access early

Revocation marks the agreement revoked and expiry marks it expired, but closing early
left it active: the request's page, /verify and the expiry job all read an agreement in
force whose access had ended (the job would even notify that access ends soon). From
now on closing early marks it ended. The upgrade does the same for requests closed
early before it (an access_ending with reason closed_early and an edition still active);
the downgrade puts them back to active, as the old code kept them.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("awaiting_signatures", "active", "revoked", "expired", "void", "superseded")
AFTER = (*BEFORE, "ended")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _allow(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("agreement", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_agreement_agreement_status"), type_="check")
        batch_op.create_check_constraint("agreement_status", f"status IN ({_listed(values)})")


def upgrade() -> None:
    _allow(AFTER)
    op.execute(
        "UPDATE agreement SET status = 'ended' WHERE status = 'active' AND EXISTS "
        "(SELECT 1 FROM access_ending e WHERE e.request_id = agreement.request_id "
        "AND e.reason = 'closed_early')"
    )


def downgrade() -> None:
    op.execute("UPDATE agreement SET status = 'active' WHERE status = 'ended'")
    _allow(BEFORE)
