"""transparency log: leaves, nodes, checkpoints, private subjects and commitment salts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import personae.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_leaves",
        sa.Column("leaf_index", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("event_id", name=op.f("uq_log_leaves_event_id")),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_log_nodes")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("created_at", personae.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_log_checkpoints")),
    )
    op.create_table(
        "outbox_subjects",
        sa.Column("event_id", _BIG_ID, nullable=False),
        sa.Column("persona_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outbox_events.id"],
            name=op.f("fk_outbox_subjects_event_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_outbox_subjects")),
    )
    op.create_index(
        op.f("ix_outbox_subjects_persona_id"), "outbox_subjects", ["persona_id"], unique=False
    )
    op.create_table(
        "log_salts",
        sa.Column("leaf_index", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("persona_id", sa.String(length=32), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["leaf_index"],
            ["log_leaves.leaf_index"],
            name=op.f("fk_log_salts_leaf_index_log_leaves"),
        ),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_log_salts")),
    )
    op.create_index(op.f("ix_log_salts_persona_id"), "log_salts", ["persona_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_log_salts_persona_id"), table_name="log_salts")
    op.drop_table("log_salts")
    op.drop_index(op.f("ix_outbox_subjects_persona_id"), table_name="outbox_subjects")
    op.drop_table("outbox_subjects")
    op.drop_table("log_checkpoints")
    op.drop_table("log_nodes")
    op.drop_table("log_leaves")
