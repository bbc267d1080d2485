"""The transparency log's SQL: leaves, nodes, checkpoints, the outbox it drains, private salts.

Bound to one connection, inside the caller's transaction. Only the sequencer
writes leaves, nodes and checkpoints; other services use ``append_event`` (an
event that concerns a persona) and ``forget_personas`` (erasure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from personae.domain.events import Event
from personae.store import tables as t
from personae.store.repositories import Outbox
from personae.translog.audit import StoredLeaf
from personae.translog.leaves import PendingEvent, PreparedLeaf
from personae.translog.merkle import Node

# One writer at a time on PostgreSQL: a transaction-scoped advisory lock under this
# key (SQLite's BEGIN IMMEDIATE already admits a single writer).
SEQUENCER_LOCK_KEY = 0x7065_7273_6F6E_6165  # "personae"


class StoreConflict(Exception):
    """A leaf, node or checkpoint the sequencer writes is already there."""


class MissingNode(LookupError):
    """A node a proof reads is not among those fetched (or not in the store at all)."""


NodeLookup = Callable[[int, int], bytes]


@dataclass(frozen=True)
class StoredCheckpoint:
    """A stored signed tree head."""

    size: int
    root_hash: bytes
    note: str
    created_at: datetime


_LATEST = (
    select(
        t.log_checkpoints.c.size,
        t.log_checkpoints.c.root_hash,
        t.log_checkpoints.c.note,
        t.log_checkpoints.c.created_at,
    )
    .order_by(t.log_checkpoints.c.size.desc())
    .limit(1)
)
_ENTRIES = (
    select(t.log_leaves.c.leaf_index, t.log_leaves.c.entry)
    .where(t.log_leaves.c.leaf_index >= bindparam("start"))
    .where(t.log_leaves.c.leaf_index < bindparam("end"))
    .order_by(t.log_leaves.c.leaf_index)
)
_MARK_SEQUENCED = (
    update(t.outbox_events)
    .where(t.outbox_events.c.id.in_(bindparam("ids", expanding=True)))
    .values(sequenced=True)
)


@lru_cache(maxsize=256)
def _nodes_sql(count: int, marker: str, ranges: bool = False) -> str:
    """``SELECT`` of nodes by ``count`` (level, index) pairs, or (level, first, stop) ranges,
    in the driver's parameter style; built once per shape."""
    term = (
        f"(level = {marker} AND node_index >= {marker} AND node_index < {marker})"
        if ranges
        else f"(level = {marker} AND node_index = {marker})"
    )
    where = " OR ".join([term] * count)
    return f"SELECT level, node_index, hash FROM log_nodes WHERE {where}"  # noqa: S608 - placeholders only


@lru_cache(maxsize=4)
def _leaf_rows_sql(marker: str) -> str:
    where = f"leaf_index >= {marker} AND leaf_index < {marker}"
    return f"SELECT leaf_index, leaf_hash, entry FROM log_leaves WHERE {where} ORDER BY leaf_index"  # noqa: S608 - placeholders only


@lru_cache(maxsize=8)
def _insert_sql(table: str, columns: tuple[str, ...], marker: str) -> str:
    values = ", ".join([marker] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608 - constants


def _driver_rows(driver: Any, sql: str, params: tuple[int, ...]) -> list[tuple[Any, ...]]:
    """Rows of a ``SELECT`` run on the driver's own cursor.

    Proofs and audits read many small rows: the driver's cursor skips SQLAlchemy's
    per-row processing, half the cost of a proof (measured in bench/translog.py).
    """
    cursor = driver.cursor()
    try:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


def _nodes(
    driver: Any, ids: Sequence[tuple[int, int]], marker: str
) -> dict[tuple[int, int], bytes]:
    if not ids:
        return {}
    unique = list(dict.fromkeys(ids))
    params = tuple(v for node in unique for v in node)
    rows = _driver_rows(driver, _nodes_sql(len(unique), marker), params)
    return {(level, index): bytes(h) for level, index, h in rows}


class TranslogRepo:
    """The log's rows, on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"

    # -- the sequencer's lock ------------------------------------------------------

    def lock_for_sequencing(self) -> None:
        """Hold the single-writer lock until the transaction ends (PostgreSQL; see module)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(select(func.pg_advisory_xact_lock(SEQUENCER_LOCK_KEY)))

    # -- reads -----------------------------------------------------------------------

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self.conn.execute(_LATEST).first()
        return StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], row[3]) if row else None

    def checkpoint_at_least(self, size: int) -> StoredCheckpoint | None:
        """The oldest stored checkpoint of a tree of at least ``size`` entries."""
        cps = t.log_checkpoints
        row = self.conn.execute(
            select(cps.c.size, cps.c.root_hash, cps.c.note, cps.c.created_at)
            .where(cps.c.size >= size)
            .order_by(cps.c.size)
            .limit(1)
        ).first()
        return StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], row[3]) if row else None

    def leaf_count(self) -> int:
        """One past the highest stored leaf index (the tree size if no leaf is missing)."""
        highest = self.conn.execute(select(func.max(t.log_leaves.c.leaf_index))).scalar()
        return 0 if highest is None else int(highest) + 1

    def _rows(self, sql: str, params: tuple[int, ...]) -> list[tuple[Any, ...]]:
        """Rows of a driver-level ``SELECT``, in the caller's transaction."""
        return _driver_rows(self.conn.connection.driver_connection, sql, params)

    def nodes(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of nodes ``(level, index)`` (absent ones are left out), keyed
        alike, in one query."""
        return _nodes(self.conn.connection.driver_connection, ids, self._marker)

    def nodes_in_ranges(
        self, ranges: Sequence[tuple[int, int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Stored nodes, keyed ``(level, index)``, with ``first <= index < stop`` at each
        ``(level, first, stop)``, in one query."""
        if not ranges:
            return {}
        params = tuple(v for r in ranges for v in r)
        rows = self._rows(_nodes_sql(len(ranges), self._marker, ranges=True), params)
        return {(level, index): bytes(h) for level, index, h in rows}

    def entries(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """``(index, entry bytes)`` of stored leaves ``start <= index < end``, in order."""
        rows = self.conn.execute(_ENTRIES, {"start": start, "end": end})
        return [(int(index), bytes(entry)) for index, entry in rows]

    def leaf_rows(self, start: int, end: int) -> list[StoredLeaf]:
        """Stored leaves ``start <= index < end`` with their stored hashes, in order."""
        rows = self._rows(_leaf_rows_sql(self._marker), (start, end))
        return [StoredLeaf(i, bytes(h), bytes(e)) for i, h, e in rows]

    def pending(self, limit: int) -> list[PendingEvent]:
        """The oldest events not yet logged, with the persona each concerns (private)."""
        o, s = t.outbox_events, t.outbox_subjects
        rows = self.conn.execute(
            select(o.c.id, o.c.type, o.c.occurred_at, o.c.payload, s.c.persona_id)
            .select_from(o.outerjoin(s, s.c.event_id == o.c.id))
            .where(o.c.sequenced.is_(False))
            .order_by(o.c.id)
            .limit(limit)
        )
        return [PendingEvent(int(i), kind, at, payload, who) for i, kind, at, payload, who in rows]

    def leaf_index_of(self, event_id: int) -> int | None:
        """Where an outbox event was logged, once it is."""
        q = select(t.log_leaves.c.leaf_index).where(t.log_leaves.c.event_id == event_id)
        index = self.conn.execute(q).scalar()
        return None if index is None else int(index)

    def salts_for(self, persona_id: str) -> list[tuple[int, bytes]]:
        """``(log index, salt)`` of every entry whose commitment names this persona."""
        s = t.log_salts
        rows = self.conn.execute(
            select(s.c.leaf_index, s.c.salt)
            .where(s.c.persona_id == persona_id)
            .order_by(s.c.leaf_index)
        )
        return [(int(index), bytes(salt)) for index, salt in rows]

    # -- writes by services ------------------------------------------------------------

    def append_event(self, event: Event, persona_id: str | None = None) -> int:
        """Append an event to the outbox; ``persona_id`` stays private and is logged only
        as a salted commitment. Returns the outbox id."""
        event_id = Outbox(self.conn).append(event)
        if persona_id is not None:
            self.conn.execute(
                insert(t.outbox_subjects).values(event_id=event_id, persona_id=persona_id)
            )
        return event_id

    def forget_personas(self, persona_ids: Sequence[str]) -> int:
        """Delete the salts (and pending subjects) of erased personas: their commitments
        then name nobody. Returns rows deleted."""
        if not persona_ids:
            return 0
        ids = list(persona_ids)
        # Subjects first: on PostgreSQL this waits for a sequencer that is moving one of
        # them to a salt, and the next statement (READ COMMITTED) then sees that salt.
        subjects = self.conn.execute(
            delete(t.outbox_subjects).where(t.outbox_subjects.c.persona_id.in_(ids))
        )
        salts = self.conn.execute(delete(t.log_salts).where(t.log_salts.c.persona_id.in_(ids)))
        return int(salts.rowcount) + int(subjects.rowcount)

    # -- writes by the sequencer --------------------------------------------------------

    def store_batch(
        self,
        leaves: Sequence[PreparedLeaf],
        nodes: Sequence[Node],
    ) -> None:
        """Store new leaves, their nodes and salts; mark their events logged.

        Raises ``StoreConflict`` if a leaf or node is already there (written
        outside the sequencer) or an event was already logged.
        """
        m = self._marker
        integrity_error = self.conn.dialect.loaded_dbapi.IntegrityError
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            # Driver-level executemany: SQLAlchemy's per-row parameter processing
            # costs as much as the rest of a batch (bench/translog.py).
            cursor.executemany(
                _insert_sql("log_leaves", ("leaf_index", "leaf_hash", "entry", "event_id"), m),
                [(leaf.index, leaf.hash, leaf.entry, leaf.event_id) for leaf in leaves],
            )
            cursor.executemany(
                _insert_sql("log_nodes", ("level", "node_index", "hash"), m),
                [(n.level, n.index, n.hash) for n in nodes],
            )
        except integrity_error as exc:
            raise StoreConflict(str(exc)) from None
        finally:
            cursor.close()
        private = [leaf for leaf in leaves if leaf.salt is not None]
        if private:
            # A salt is kept only where this transaction removed the subject row: an
            # erasure that deleted it since ``pending`` read it (committed, or committing
            # while this delete waits on its row lock) leaves the commitment naming nobody.
            s = t.outbox_subjects
            removed = {
                int(event_id)
                for (event_id,) in self.conn.execute(
                    delete(s)
                    .where(s.c.event_id.in_([leaf.event_id for leaf in private]))
                    .returning(s.c.event_id)
                )
            }
            kept = [leaf for leaf in private if leaf.event_id in removed]
            if kept:
                self.conn.execute(
                    insert(t.log_salts),
                    [
                        {"leaf_index": leaf.index, "persona_id": leaf.persona_id, "salt": leaf.salt}
                        for leaf in kept
                    ],
                )
        self.conn.execute(_MARK_SEQUENCED, {"ids": [leaf.event_id for leaf in leaves]})

    def replace_note(self, size: int, note: str) -> None:
        """Store ``note`` for the checkpoint at ``size``: the same tree head, one more signature."""
        cps = t.log_checkpoints
        self.conn.execute(update(cps).where(cps.c.size == size).values(note=note))

    def add_checkpoint(self, size: int, root_hash: bytes, note: str, at: datetime) -> None:
        try:
            self.conn.execute(
                insert(t.log_checkpoints).values(
                    size=size, root_hash=root_hash, note=note, created_at=at
                )
            )
        except IntegrityError as exc:
            raise StoreConflict(str(exc.orig)) from None


class ProofNodes:
    """The stored nodes proofs read: one query per proof, for what is not cached.

    Complete subtrees never change once stored, so those of level >= ``min_level``
    are kept in memory (at most ``max_nodes``, ~8 MB: a tree of 1M leaves has ~62k
    of level >= 5); the few lower ones a proof needs come in one indexed query.
    """

    def __init__(self, engine: Engine, min_level: int = 5, max_nodes: int = 1 << 16) -> None:
        self.engine = engine
        self.min_level = min_level
        self.max_nodes = max_nodes
        self._cache: dict[tuple[int, int], bytes] = {}
        self._marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._reached = 0  # the log is known to hold at least this many leaves

    def reader(self, keys: Sequence[tuple[int, int]], size: int) -> NodeLookup | None:
        """A ``NodeReader`` holding nodes ``(level, index)`` of the tree of ``size`` leaves;
        None when the log has fewer. A read outside them raises ``MissingNode``."""
        cache, values = self._cache, {}
        wanted = []
        for key in keys:
            value = cache.get(key)
            if value is None:
                wanted.append(key)
            else:
                values[key] = value
        # Until the log is known to have reached ``size``, the tree's last leaf comes
        # with the proof's nodes: it is stored exactly when the log has that many
        # leaves (leaves are only written with their checkpoint, and never removed).
        check = size > self._reached
        if wanted or check:
            # A bare pooled driver connection: one statement needs no SQLAlchemy
            # transaction (its pool resets the connection on return).
            raw = self.engine.raw_connection()
            try:
                last = [(0, size - 1)] if check else []
                found = _nodes(raw.driver_connection, [*wanted, *last], self._marker)
            finally:
                raw.close()
            if check:
                if last[0] not in found:
                    return None
                self._reached = max(self._reached, size)
            values.update(found)
            if len(cache) < self.max_nodes:
                cache.update((k, v) for k, v in found.items() if k[0] >= self.min_level)

        def read(level: int, index: int) -> bytes:
            try:
                return values[(level, index)]
            except KeyError:
                raise MissingNode(f"node {index} at level {level}") from None

        return read
