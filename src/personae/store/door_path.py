"""The online door check's few statements, run on the database driver's own connection.

Hand-written SQL, on purpose: through SQLAlchemy Core each of these statements
costs about 100 µs of Python on this machine, against about 10 µs on the driver
(SQLite: 447 µs against 56 µs for the whole check's statements, measured while
building bench/door_online.py). Everything else in personae goes through the
repositories; these statements mirror theirs and the tests run them on both
databases.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, PoolProxiedConnection

from personae.store.engine import SQLITE_BUSY_TIMEOUT_MS
from personae.store.tables import UTCDateTime
from personae.store.uow import writer_lock

# Mirrors Sanctions.in_force(blocking=True): a measure that blocks passes, not lifted,
# begun and not yet ended.
_ADMISSION = """
SELECT p.world_id, EXISTS (
    SELECT 1 FROM sanctions s
    WHERE s.persona_id = p.id AND s.lifted_at IS NULL AND s.blocks_passes
      AND s.starts_at <= {ph} AND (s.ends_at IS NULL OR s.ends_at > {ph})
)
FROM personas p WHERE p.id = {ph}
"""
_CONSUME_NONCE = """
UPDATE door_nonces SET used_at = {ph}
WHERE nonce_hash = {ph} AND world_id = {ph} AND used_at IS NULL AND expires_at > {ph}
"""
_STATUS_BYTE = "SELECT substr(bits, {ph}, 1) FROM status_lists WHERE id = {ph}"


class Admission(NamedTuple):
    """What the door needs to know of a persona besides its pass."""

    world_id: str
    blocked: bool
    """A suspension or ban is in force on it."""


class DoorPath:
    """The door check's reads and its one write, on a driver connection.

    Inside :meth:`connection` every call on the same thread shares one
    connection, so a door check checks out the pool once.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._writer_lock = writer_lock(engine)
        ph = "?" if self._sqlite else "%s"
        self._admission = _ADMISSION.format(ph=ph)
        self._consume = _CONSUME_NONCE.format(ph=ph)
        self._status_byte = _STATUS_BYTE.format(ph=ph)
        # The column type's own encoding (SQLite keeps text that must compare as text).
        processor = UTCDateTime().dialect_impl(engine.dialect).bind_processor(engine.dialect)
        self._time: Callable[[datetime], Any] = processor or (lambda value: value)
        self._local = threading.local()
        self._last_time: tuple[datetime, Any] | None = None
        # A connection of the path's own, for callers that must not wait (the event
        # loop): checked out once, used by one caller at a time.
        self._own: PoolProxiedConnection | None = None
        self._own_lock = threading.Lock()

    @contextmanager
    def connection(self, *, wait: bool = True) -> Iterator[bool]:
        """Bind one driver connection to this thread for the block; yields whether it did.

        With ``wait=False`` only what is at hand at once is bound: on SQLite, the
        path's own connection if no other caller holds it; on PostgreSQL nothing,
        since every statement there waits on the network.
        """
        if getattr(self._local, "conn", None) is not None:
            yield True  # already inside a block on this thread
            return
        if wait:
            pooled = self._engine.raw_connection()
            self._local.conn = pooled.driver_connection
            try:
                yield True
            finally:
                self._local.conn = None
                pooled.close()  # the pool rolls back whatever is left open
            return
        if not self._sqlite or not self._own_lock.acquire(blocking=False):
            yield False
            return
        try:
            if self._own is None:
                self._own = self._engine.raw_connection()
            self._local.conn = self._own.driver_connection
            yield True
        finally:
            self._local.conn = None
            self._own_lock.release()

    def close(self) -> None:
        """Give the path's own connection back to the pool."""
        with self._own_lock:
            if self._own is not None:
                self._own.close()
                self._own = None

    def _encode_time(self, now: datetime) -> Any:
        # One check passes the same instant to every statement: encode it once.
        last = self._last_time
        if last is not None and last[0] is now:
            return last[1]
        encoded = self._time(now)
        self._last_time = (now, encoded)
        return encoded

    def consume_nonce(self, nonce_hash: bytes, world_id: str, now: datetime) -> bool:
        """Use a nonce once, committed at once: true only for this world's unused, live nonce."""
        return self._consume_nonce(nonce_hash, world_id, now, wait=True) is True

    def consume_nonce_now(self, nonce_hash: bytes, world_id: str, now: datetime) -> bool | None:
        """:meth:`consume_nonce`, or None having changed nothing if another writer (of this
        process, or another process) holds SQLite's write lock."""
        return self._consume_nonce(nonce_hash, world_id, now, wait=False)

    def _consume_nonce(
        self, nonce_hash: bytes, world_id: str, now: datetime, *, wait: bool
    ) -> bool | None:
        at = self._encode_time(now)
        params = (at, nonce_hash, world_id, at)
        if self._writer_lock is None:
            with self._checked_out() as conn:
                try:
                    used = conn.execute(self._consume, params).rowcount == 1
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
                return bool(used)
        # One statement in autocommit mode is its own transaction; the lock queues this
        # process's writers instead of SQLite's busy-wait. Lock first, connection second,
        # as every unit of work does: a caller holding a connection while it waits for
        # the lock could starve the lock's holder of one.
        if not self._writer_lock.acquire(blocking=wait):
            return None
        try:
            with self._checked_out() as conn:
                if wait:
                    return bool(conn.execute(self._consume, params).rowcount == 1)
                return self._consume_without_waiting(conn, params)
        finally:
            self._writer_lock.release()

    @contextmanager
    def _checked_out(self) -> Iterator[Any]:
        """This thread's bound connection, or one from the pool for this block."""
        with self.connection():
            yield self._local.conn

    def _consume_without_waiting(self, conn: Any, params: tuple[Any, ...]) -> bool | None:
        """The nonce's use on SQLite, or None, having changed nothing, if another process
        holds the database's write lock (instead of waiting for it on the event loop)."""
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            return bool(conn.execute(self._consume, params).rowcount == 1)
        except sqlite3.OperationalError as exc:
            # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code's low byte.
            if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return None
            raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

    def status_byte(self, list_id: str, idx: int) -> int | None:
        """The byte of a status list holding bit ``idx`` (one-bit statuses), or None."""
        with self._checked_out() as conn:
            row = conn.execute(self._status_byte, (idx // 8 + 1, list_id)).fetchone()
            self._end_read(conn)
        if row is None or row[0] is None or len(row[0]) != 1:
            return None
        return int(bytes(row[0])[0])

    def admission(self, persona_id: str, now: datetime) -> Admission | None:
        """The persona's world and whether a blocking sanction is in force; None if unknown."""
        at = self._encode_time(now)
        with self._checked_out() as conn:
            row = conn.execute(self._admission, (at, at, persona_id)).fetchone()
            self._end_read(conn)
        return None if row is None else Admission(row[0], bool(row[1]))

    def _end_read(self, conn: Any) -> None:
        # SQLite reads run in autocommit mode; psycopg opened a transaction for the read.
        if not self._sqlite:
            conn.rollback()
