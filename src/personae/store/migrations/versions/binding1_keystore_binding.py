"""keystore binding: which keystore a database belongs to

Revision ID: binding1
Revises: 0001
Create Date: 2026-11-27 02:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "binding1"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database made before this revision gets its row from the next start.
    op.create_table(
        "keystore_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keystore_binding")),
    )


def downgrade() -> None:
    op.drop_table("keystore_binding")
