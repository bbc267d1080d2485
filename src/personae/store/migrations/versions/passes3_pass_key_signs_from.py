"""pass signing keys: a rotated-in key may sign only from a later time

Revision ID: passes3
Revises: passes2
Create Date: 2026-11-27 01:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import personae.store.tables

revision = "passes3"
down_revision = "passes2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing keys have none: they signed from the moment they were made.
    op.add_column(
        "pass_signing_keys",
        sa.Column("signs_from", personae.store.tables.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("pass_signing_keys") as batch_op:
        batch_op.drop_column("signs_from")
