"""renewal and amendment: the request's amendment phase and kind; agreement editions

An active request may be renewed or amended: the amendment walks the pipeline in its own
phase (access_request.amendment) while the request stays active. Each approval issues a
new edition of the agreement (so one request has several: the unique request_id goes),
the edition in force is the one that took effect last (effective_at), and the one before
becomes superseded, never edited.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("awaiting_signatures", "active", "revoked", "expired", "void")
AFTER = (*BEFORE, "superseded")
PHASES = ("draft", "screening", "changes_requested", "under_review", "awaiting_signatures")
KINDS = ("renew", "amend")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    with op.batch_alter_table("access_request", recreate="auto") as batch_op:
        batch_op.add_column(
            sa.Column(
                "amendment",
                sa.Enum(*PHASES, name="amendment_phase", native_enum=False, create_constraint=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "amendment_kind",
                sa.Enum(*KINDS, name="amendment_kind", native_enum=False, create_constraint=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("agreement", recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("edition", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("effective_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(op.f("uq_agreement_request_id"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_agreement_request_id_edition"), ["request_id", "edition"]
        )
        batch_op.create_index(op.f("ix_agreement_request_id"), ["request_id"], unique=False)
        batch_op.drop_constraint(op.f("ck_agreement_agreement_status"), type_="check")
        batch_op.create_check_constraint("agreement_status", f"status IN ({_listed(AFTER)})")
    with op.batch_alter_table("agreement", recreate="auto") as batch_op:
        batch_op.alter_column("edition", server_default=None)
    # An agreement that took effect: every party signed (active, expired, or revoked
    # after access began, which recorded the end of access).
    op.execute(
        "UPDATE agreement SET effective_at = updated_at WHERE status IN ('active', 'expired') "
        "OR (status = 'revoked' AND EXISTS (SELECT 1 FROM access_ending e "
        "WHERE e.request_id = agreement.request_id AND e.reason = 'revoked'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM agreement WHERE edition > 1")
    op.execute("UPDATE agreement SET status = 'expired' WHERE status = 'superseded'")
    with op.batch_alter_table("agreement", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_agreement_agreement_status"), type_="check")
        batch_op.create_check_constraint("agreement_status", f"status IN ({_listed(BEFORE)})")
        batch_op.drop_index(op.f("ix_agreement_request_id"))
        batch_op.drop_constraint(op.f("uq_agreement_request_id_edition"), type_="unique")
        batch_op.create_unique_constraint(op.f("uq_agreement_request_id"), ["request_id"])
        batch_op.drop_column("effective_at")
        batch_op.drop_column("edition")
    with op.batch_alter_table("access_request", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_access_request_amendment_kind"), type_="check")
        batch_op.drop_constraint(op.f("ck_access_request_amendment_phase"), type_="check")
        batch_op.drop_column("amendment_kind")
        batch_op.drop_column("amendment")
