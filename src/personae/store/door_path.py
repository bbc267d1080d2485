"""The online door check's one statement, run on the database driver's own connection.

Hand-written SQL, on purpose: through SQLAlchemy Core a statement costs about
100 µs of Python on this machine, against about 10 µs on the driver (SQLite:
447 µs against 56 µs for the check's statements when they were three, measured
while building bench/door_online.py). One statement uses the nonce and, in the
same step, reads what the door needs to know of the pass and its persona, so a
door check is one round trip and one commit. Everything else in personae goes
through the repositories; this statement mirrors theirs and the tests run it on
both databases against them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, PoolProxiedConnection

from personae.store.engine import SQLITE_BUSY_TIMEOUT_MS
from personae.store.tables import UTCDateTime
from personae.store.uow import writer_lock

# {returning} is "1" (the row says the nonce was used), or the reads that ride on the
# nonce's use: the status byte holding the pass's bit, the persona's world, and
# (mirroring Sanctions.in_force(blocking=True)) whether a measure that blocks passes is
# in force: not lifted, begun and not yet ended.
_USE_NONCE = """
UPDATE door_nonces SET used_at = {ph}
WHERE nonce_hash = {ph} AND world_id = {ph} AND used_at IS NULL AND expires_at > {ph}
RETURNING {returning}
"""
_READS = """
  (SELECT substr(bits, {ph}, 1) FROM status_lists WHERE id = {ph}),
  (SELECT world_id FROM personas WHERE id = {ph}),
  EXISTS (
    SELECT 1 FROM sanctions s
    WHERE s.persona_id = {ph} AND s.lifted_at IS NULL AND s.blocks_passes
      AND s.starts_at <= {ph} AND (s.ends_at IS NULL OR s.ends_at > {ph})
  )
"""


class PassLookup(NamedTuple):
    """What the door asks of the database about a pass that verified: its status list
    entry (one-bit statuses) and its persona."""

    status_list_id: str
    status_idx: int
    persona_id: str


class NonceUse(NamedTuple):
    """The outcome of using a nonce, with what was read in the same statement."""

    used: bool
    """The nonce was this world's, unused and live; it is now used (and committed)."""
    status: int | None = None
    """The pass's status (0 valid), or None if its list or entry does not exist."""
    world_id: str | None = None
    """The persona's world, or None if there is no such persona."""
    blocked: bool = False
    """A suspension or ban is in force on the persona."""


NOT_USED = NonceUse(used=False)
_USED = NonceUse(used=True)


class DoorPath:
    """The door check's statement: use a nonce once, and read the pass's standing."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._writer_lock = writer_lock(engine)
        ph = "?" if self._sqlite else "%s"
        self._use = _USE_NONCE.format(ph=ph, returning="1")
        self._use_and_read = _USE_NONCE.format(ph=ph, returning=_READS.format(ph=ph))
        # The column type's own encoding (SQLite keeps text that must compare as text).
        processor = UTCDateTime().dialect_impl(engine.dialect).bind_processor(engine.dialect)
        self._time: Callable[[datetime], Any] = processor or (lambda value: value)
        # A connection of the path's own for callers that must not wait (the event loop):
        # SQLite only, checked out once, one caller at a time, and never waiting for a
        # lock held by another process (busy_timeout 0 while the path holds it).
        self._own: PoolProxiedConnection | None = None
        self._own_lock = threading.Lock()

    @property
    def settles_now(self) -> bool:
        """Whether :meth:`use_nonce_now` can ever succeed (SQLite; PostgreSQL always waits
        on the network)."""
        return self._sqlite

    def close(self) -> None:
        """Give the path's own connection back to the pool, as the pool gave it."""
        with self._own_lock:
            if self._own is not None:
                self._own.driver_connection.execute(  # type: ignore[union-attr]
                    f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
                )
                self._own.close()
                self._own = None

    def use_nonce(
        self, nonce_hash: bytes, world_id: str, now: datetime, lookup: PassLookup | None = None
    ) -> NonceUse:
        """Use a nonce once, committed at once; with ``lookup``, read the pass's standing
        in the same statement. Waits for the database as long as it takes."""
        statement, params = self._statement(nonce_hash, world_id, now, lookup)
        if self._writer_lock is None:
            pooled = self._engine.raw_connection()
            try:
                conn: Any = pooled.driver_connection
                with conn.cursor() as cursor:
                    rows = cursor.execute(statement, params).fetchall()
                conn.commit()
                return self._outcome(rows, lookup)
            finally:
                pooled.close()  # the pool rolls back whatever is left open
        # One statement in autocommit mode is its own transaction; the lock queues this
        # process's writers instead of SQLite's busy-wait. Lock first, connection second,
        # as every unit of work does: a caller holding a connection while it waits for
        # the lock could starve the lock's holder of one.
        with self._writer_lock:
            pooled = self._engine.raw_connection()
            try:
                # Every row fetched: SQLite ends the statement's transaction only then.
                rows = pooled.driver_connection.execute(statement, params).fetchall()  # type: ignore[union-attr]
                return self._outcome(rows, lookup)
            finally:
                pooled.close()

    def use_nonce_now(
        self, nonce_hash: bytes, world_id: str, now: datetime, lookup: PassLookup | None = None
    ) -> NonceUse | None:
        """:meth:`use_nonce` if it can run without waiting (SQLite, the path's own
        connection free, no writer of this process or another holding the write lock);
        None, having changed nothing, if it cannot."""
        if self._writer_lock is None or not self._own_lock.acquire(blocking=False):
            return None
        try:
            if not self._writer_lock.acquire(blocking=False):
                return None
            try:
                conn = self._own_connection()
                statement, params = self._statement(nonce_hash, world_id, now, lookup)
                try:
                    rows = conn.execute(statement, params).fetchall()
                except sqlite3.OperationalError as exc:
                    # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code's
                    # low byte. A failed statement changed nothing.
                    if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                        return None
                    raise
                return self._outcome(rows, lookup)
            finally:
                self._writer_lock.release()
        finally:
            self._own_lock.release()

    def _own_connection(self) -> sqlite3.Connection:
        if self._own is None:
            own = self._engine.raw_connection()
            conn: sqlite3.Connection = own.driver_connection  # type: ignore[assignment]
            conn.execute("PRAGMA busy_timeout = 0")
            self._own = own
        return self._own.driver_connection  # type: ignore[return-value]

    def _statement(
        self, nonce_hash: bytes, world_id: str, now: datetime, lookup: PassLookup | None
    ) -> tuple[str, tuple[Any, ...]]:
        at = self._time(now)
        use = (at, nonce_hash, world_id, at)
        if lookup is None:
            return self._use, use
        list_id, idx, persona = lookup
        reads = (idx // 8 + 1, list_id, persona, persona, at, at)
        return self._use_and_read, use + reads

    @staticmethod
    def _outcome(rows: list[Any], lookup: PassLookup | None) -> NonceUse:
        if not rows:
            return NOT_USED
        if lookup is None:
            return _USED
        ((byte, world_id, blocked),) = rows
        status = None
        if byte is not None and len(byte) == 1:
            status = (bytes(byte)[0] >> (lookup.status_idx % 8)) & 1
        return NonceUse(True, status, world_id, bool(blocked))
