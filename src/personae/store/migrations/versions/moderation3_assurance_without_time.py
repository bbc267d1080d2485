"""standing assurance: no time of recording

Revision ID: moderation3
Revises: moderation2
Create Date: 2026-11-27 01:50:00.000000

A person confirms the level for all their personas at once, so the rows carried
one shared time that linked the personas; the time was never read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import personae.store.tables

revision = "moderation3"
down_revision = "moderation2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("standing_assurance") as batch_op:
        batch_op.drop_column("recorded_at")


def downgrade() -> None:
    with op.batch_alter_table("standing_assurance") as batch_op:
        batch_op.add_column(
            sa.Column(
                "recorded_at",
                personae.store.tables.UTCDateTime(timezone=True),
                nullable=False,
                server_default="1970-01-01 00:00:00",
            )
        )
