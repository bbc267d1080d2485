"""web pages: passkeys, WebAuthn challenges, staff TOTP

Revision ID: web1
Revises: 0001
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import personae.store.tables

revision = "web1"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_passkeys",
        sa.Column("credential_id", sa.LargeBinary(length=255), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("created_at", personae.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", personae.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_web_passkeys_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_web_passkeys")),
    )
    op.create_index("ix_web_passkeys_person_id", "web_passkeys", ["person_id"], unique=False)
    op.create_table(
        "web_challenges",
        sa.Column("challenge_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("expires_at", personae.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("challenge_hash", name=op.f("pk_web_challenges")),
    )
    op.create_index("ix_web_challenges_expires_at", "web_challenges", ["expires_at"], unique=False)
    op.create_table(
        "staff_totp",
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        sa.Column("enrolled_at", personae.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_totp_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_totp")),
    )


def downgrade() -> None:
    op.drop_table("staff_totp")
    op.drop_index("ix_web_challenges_expires_at", table_name="web_challenges")
    op.drop_table("web_challenges")
    op.drop_index("ix_web_passkeys_person_id", table_name="web_passkeys")
    op.drop_table("web_passkeys")
