"""held persona erasures: a held persona kept after its person's erasure

Revision ID: lawful2
Revises: lawful1
Create Date: 2026-11-26 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import personae.store.tables

revision = "lawful2"
down_revision = "lawful1"
branch_labels = None
depends_on = None

UTC = personae.store.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "held_persona_erasures",
        sa.Column("persona_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("persona_id", name=op.f("pk_held_persona_erasures")),
    )


def downgrade() -> None:
    op.drop_table("held_persona_erasures")
