"""sanctions: mark those of a platform-scope decision

Revision ID: moderation2
Revises: moderation1
Create Date: 2026-11-27 01:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "moderation2"
down_revision = "moderation1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sanctions made before this revision are not known to be platform-wide: they keep
    # applying to the personas they were put on, as before.
    op.add_column(
        "sanctions",
        sa.Column("platform", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Natively (SQLite 3.35+): a batch rebuild drops the table, which the foreign
        # key of sanction_passes refuses once any sanction revoked a pass.
        op.execute("ALTER TABLE sanctions DROP COLUMN platform")
        return
    op.drop_column("sanctions", "platform")
