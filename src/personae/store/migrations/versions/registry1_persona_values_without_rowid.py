"""persona_values: WITHOUT ROWID on SQLite, so no row id records the order rows were written

Revision ID: registry1
Revises: 0001
Create Date: 2026-11-28 10:00:00.000000

A person's change of an attribute writes the copies of all their personas in one
transaction. In a table with row ids, rows written together get consecutive ids, and
anyone holding the database file could link those personas by them. Without a row id
the rows live in the primary key's order (persona id, a keyed pseudonym), which says
nothing about when they were written. PostgreSQL has no row ids of this kind: nothing
to do there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "registry1"
down_revision = "0001"
branch_labels = None
depends_on = None


def _recreate(*, with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_table(
        "_persona_values_new",
        sa.Column("persona_id", sa.String(length=32), nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["persona_id"],
            ["personas.id"],
            name="fk_persona_values_persona_id_personas",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("persona_id", "attribute", name="pk_persona_values"),
        sqlite_with_rowid=with_rowid,
    )
    # In key order, so that not even the copy keeps the old write order.
    op.execute(
        "INSERT INTO _persona_values_new (persona_id, attribute, sealed) "
        "SELECT persona_id, attribute, sealed FROM persona_values ORDER BY persona_id, attribute"
    )
    op.drop_table("persona_values")
    op.rename_table("_persona_values_new", "persona_values")


def upgrade() -> None:
    _recreate(with_rowid=False)


def downgrade() -> None:
    _recreate(with_rowid=True)
