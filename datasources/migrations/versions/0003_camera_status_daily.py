"""camera_status_daily: a daily sample of camera status per village

Revision ID: 0003
Revises: 0002
Created: 2026-11-29 22:48:21.856992
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_status_daily",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("town_code", sa.String(length=200), nullable=False),
        sa.Column("village_code", sa.String(length=200), nullable=False),
        sa.Column("cameras", sa.BigInteger(), nullable=False),
        sa.Column("online", sa.BigInteger(), nullable=False),
        sa.Column("networked", sa.BigInteger(), nullable=False),
        sa.Column("hd", sa.BigInteger(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("date", "village_code"),
    )
    with op.batch_alter_table("camera_status_daily", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camera_status_daily_ts"), ["ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("camera_status_daily", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_status_daily_ts"))

    op.drop_table("camera_status_daily")
