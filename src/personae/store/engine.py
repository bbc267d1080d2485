"""Engines for SQLite (WAL, foreign keys, explicit BEGIN) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# Execution option a writing unit of work sets: on SQLite it begins with
# BEGIN IMMEDIATE, taking the write lock up front, so two writers serialize
# instead of failing at commit with "database is locked".
WRITE_OPTION = "personae_write"
# How long a SQLite statement waits for another process's write lock.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How far SQLite's write-ahead log may grow (in pages) before a committing connection
#: copies it back into the database itself, fsync included. `personae serve` does that
#: every second in the background (:func:`checkpoint_wal`), so a request seldom pays it
#: (measured: about 25 µs a write on average at SQLite's default of 1,000 pages).
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine configured for personae's transactions on either database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": 30, "check_same_thread": False},
            poolclass=NullPool if parsed.database in (None, "", ":memory:") else None,
        )
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own
        # transaction handling would defer it and ignore IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        # A larger page cache and memory-mapped reads keep B-tree lookups cheap as
        # the store grows (measured in bench/registry.py).
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=1073741824")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def checkpoint_wal(engine: Engine) -> tuple[int, int] | None:
    """Copy SQLite's write-ahead log back into the database without blocking readers or
    writers (a PASSIVE checkpoint): (pages in the log, pages copied). None on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    pooled = engine.raw_connection()
    try:
        # The driver connection is in autocommit mode: no transaction to run inside.
        _busy, in_log, copied = pooled.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA wal_checkpoint(PASSIVE)"
        ).fetchone()
        return int(in_log), int(copied)
    finally:
        pooled.close()
