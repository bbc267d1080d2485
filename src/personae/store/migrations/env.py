"""Alembic environment: migrations run against the engine personae hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from personae.store.tables import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("personae migrations run through `personae db upgrade`")
_run(connection)
