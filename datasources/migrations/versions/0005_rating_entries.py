"""rating_entries: the append-only log of indicator values departments entered

Revision ID: 0005
Revises: 0004
Created: 2026-11-30 01:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_entries",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("indicator_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("evidence", sa.String(length=400), nullable=True),
        sa.Column("reported_by", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("rating_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_entries_indicator_id"), ["indicator_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rating_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_entries_indicator_id"))

    op.drop_table("rating_entries")
