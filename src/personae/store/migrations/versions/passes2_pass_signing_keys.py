"""pass signing keys: the latest expiry of a pass each key signed

Revision ID: passes2
Revises: passes1
Create Date: 2026-11-26 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import personae.store.tables

revision = "passes2"
down_revision = "passes1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keys that signed passes before this revision have no row: they stay published
    # (their passes' expiry is not known per key), as before.
    op.create_table(
        "pass_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column(
            "last_expires_at", personae.store.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_pass_signing_keys")),
    )


def downgrade() -> None:
    op.drop_table("pass_signing_keys")
