"""Use cases of the transparency log: checkpoints, entries, proofs, the report, the log key.

Writing the log (sequencing the outbox, checking the stored log) is
``transparency_sequencer.LogSequencer``'s; this service holds one and answers the
public reads. Proofs fetch a superset of their nodes in one query (``translog.prefetch``),
through a cache of the immutable upper subtrees (``store.translog_repo.ProofNodes``).
The report reads each entry once per process: running per-day totals
(``translog.report.ReportIndex``) are extended by the entries a new checkpoint adds,
and finished reports are kept by (tree size, from, to) in a bounded cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import Engine

from personae.domain.events import Event, EventType
from personae.errors import BadRequest, LogIntegrityError, NotFound
from personae.services.context import ServiceContext
from personae.services.transparency_sequencer import (
    AUDIT_CHUNK,
    DEFAULT_BATCH_SIZE,
    LOG_KEY,
    AfterLeaves,
    Audit,
    LogSequencer,
    Sequenced,
    ed25519,
)
from personae.store.translog_repo import (
    MissingNode,
    NodeLookup,
    ProofNodes,
    StoredCheckpoint,
    TranslogRepo,
)
from personae.store.uow import UnitOfWork
from personae.translog.checkpoint import verifier_key
from personae.translog.leaves import decode_entry
from personae.translog.merkle import (
    NodeId,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
)
from personae.translog.prefetch import consistency_candidates, inclusion_candidates
from personae.translog.report import ReportIndex, TransparencyReport

MAX_ENTRIES_PAGE = 1000
MAX_LOG_SIZE = 2**62
"""Larger sizes cannot be stored (64-bit indexes): asking for one is asking past the end."""
REPORT_CACHE_SIZE = 64
"""Finished reports kept, by (tree size, from, to); the least recently asked goes first."""

ReportKey = tuple[int, date | None, date | None]


def log_origin(issuer_url: str) -> str:
    """The log's origin line and key name: the public host and path, then ``/log``."""
    parts = urlsplit(issuer_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


@dataclass(frozen=True)
class LogKey:
    """The log's current verifier key and those that signed before it (newest first)."""

    origin: str
    verifier_key: str
    public_key: bytes
    previous: list[str]


@dataclass(frozen=True)
class LogKeyRotation:
    old_kid: str
    new_kid: str
    verifier_key: str
    size: int


class TransparencyService:
    def __init__(
        self,
        ctx: ServiceContext,
        engine: Engine,
        origin: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        report_cache_size: int = REPORT_CACHE_SIZE,
    ) -> None:
        self.ctx = ctx
        self.origin = origin
        self.sequencer = LogSequencer(ctx, engine, origin, batch_size)
        self._nodes = ProofNodes(engine)
        self._report_lock = threading.Lock()
        self._report_index = ReportIndex()
        self._reports: OrderedDict[ReportKey, TransparencyReport] = OrderedDict()
        self._report_cache_size = report_cache_size

    def sequence_pending(
        self, *, batch_size: int | None = None, after_leaves: AfterLeaves | None = None
    ) -> Sequenced:
        """Log every pending event, one transaction per batch (see ``LogSequencer``)."""
        return self.sequencer.sequence_pending(batch_size=batch_size, after_leaves=after_leaves)

    def self_check(self) -> Audit:
        """Check every stored leaf and node and the last checkpoint; names the first bad one."""
        return self.sequencer.self_check()

    # -- reads --------------------------------------------------------------------------

    def checkpoint(self, min_size: int | None = None) -> StoredCheckpoint:
        """The latest signed checkpoint; with ``min_size``, the oldest one of a tree of at
        least that many entries (every checkpoint is kept: a verifier following a key
        rotation asks for the ones the old key signed)."""
        if min_size is not None and min_size < 0:
            raise BadRequest(f"a checkpoint size is at least 0, not {min_size}")
        with self.sequencer.snapshot() as repo:
            head = repo.latest_checkpoint()
            if head is None:
                raise NotFound("the log has no checkpoint yet")
            if min_size is None:
                return head
            if min_size > head.size:
                raise BadRequest(
                    f"size {min_size} is past the end of the log ({head.size} entries)"
                )
            found = repo.checkpoint_at_least(min_size)
        return found if found is not None else head  # the head qualifies, in one snapshot

    def public_key(self) -> LogKey:
        """The key that signs checkpoints now, and the ones that signed before."""
        current, *older = self.sequencer.keys()
        public = ed25519(current).public_key()
        return LogKey(
            self.origin,
            verifier_key(self.origin, public),
            public.public_bytes_raw(),
            [verifier_key(self.origin, ed25519(k).public_key()) for k in older],
        )

    @staticmethod
    def _size(repo: TranslogRepo) -> int:
        head = repo.latest_checkpoint()
        return head.size if head else 0

    def _count(self) -> int:
        with self.sequencer.snapshot() as repo:
            return self._size(repo)

    def entries(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Entries ``start <= index < end`` (at most ``MAX_ENTRIES_PAGE`` of them)."""
        if not 0 <= start < end:
            raise BadRequest(f"an entry range needs 0 <= start < end, not {start}..{end}")
        with self.sequencer.snapshot() as repo:
            size = self._size(repo)
            if end > size:
                raise BadRequest(f"end {end} is past the end of the log ({size} entries)")
            return repo.entries(start, min(end, start + MAX_ENTRIES_PAGE))

    def recent(self, count: int) -> list[tuple[int, bytes]]:
        """The last ``count`` entries, oldest first."""
        with self.sequencer.snapshot() as repo:
            size = self._size(repo)
            return repo.entries(max(0, size - count), size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        if not 0 <= index < size:
            raise BadRequest(f"an inclusion proof needs 0 <= index < size, not {index}, {size}")
        return self._prove(
            size,
            lambda: inclusion_candidates(index, size),
            lambda: inclusion_proof_nodes(index, size),
            lambda read: inclusion_proof(index, size, read),
        )

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """The RFC 9162 consistency proof from the tree of ``old`` entries to that of ``new``."""
        if not 0 <= old <= new:
            raise BadRequest(f"a consistency proof needs 0 <= from <= to, not {old}, {new}")
        return self._prove(
            new,
            lambda: consistency_candidates(old, new),
            lambda: consistency_proof_nodes(old, new),
            lambda read: consistency_proof(old, new, read),
        )

    def _prove(
        self,
        size: int,
        candidates: Callable[[], list[tuple[int, int]]],
        exact: Callable[[], list[NodeId]],
        prove: Callable[[NodeLookup], list[bytes]],
    ) -> list[bytes]:
        """Fetch a superset of the proof's nodes in one query and build it; should a node
        fall outside the superset, fetch the exact list and build it again."""
        try:
            return prove(self._reader(candidates(), size))
        except MissingNode:
            pass
        try:
            return prove(self._reader([(n.level, n.index) for n in exact()], size))
        except MissingNode as exc:
            raise LogIntegrityError(f"stored {exc} is missing") from None

    def _reader(self, keys: list[tuple[int, int]], size: int) -> NodeLookup:
        read = self._nodes.reader(keys, size) if size <= MAX_LOG_SIZE else None
        if read is None:
            raise BadRequest(f"size {size} is past the end of the log ({self._count()} entries)")
        return read

    def report(
        self, start: date | None, end: date | None
    ) -> tuple[StoredCheckpoint, TransparencyReport]:
        """The public numbers for days ``start``..``end`` (inclusive), from log entries alone,
        and the checkpoint they were computed at.

        Entries are read once per process (``_index_to``); a report asked again at the
        same tree size is answered from the cache without reading any entry. Requests
        take turns, so concurrent ones never read the same entries twice.
        """
        if start is not None and end is not None and start > end:
            raise BadRequest(f"a report period needs from <= to, not {start} > {end}")
        with self._report_lock:
            head = self.checkpoint()  # read under the lock: each holder sees a later head
            key = (head.size, start, end)
            cached = self._reports.get(key)
            if cached is not None:
                self._reports.move_to_end(key)
                return head, cached
            self._index_to(head.size)
            figures = self._report_index.report(start, end)
            self._reports[key] = figures
            while len(self._reports) > self._report_cache_size:
                self._reports.popitem(last=False)
            return head, figures

    def _index_to(self, size: int) -> None:
        """Extend the per-day totals with entries up to ``size``, one short read per chunk.

        Entries below a checkpoint's size never change, so the chunks need not share
        one transaction. A log found shorter than what was counted is counted afresh.
        """
        if size < self._report_index.size:
            self._report_index = ReportIndex()
            self._reports.clear()
        index = self._report_index
        while index.size < size:
            first, stop = index.size, min(size, index.size + AUDIT_CHUNK)
            with self.sequencer.snapshot() as repo:
                rows = repo.entries(first, stop)
            if [i for i, _ in rows] != list(range(first, stop)):
                raise LogIntegrityError(
                    f"entries {first}..{stop - 1} are not all stored below the checkpoint"
                )
            index.extend(decode_entry(data) for _, data in rows)

    # -- key rotation -------------------------------------------------------------------

    def rotate_log_key(self) -> LogKeyRotation:
        """A new log signing key, announced in the log under the old one before it signs.

        The keystore calls back with the new key's id before storing it: the
        ``key.rotated`` entry naming it is appended and sequenced then, so the
        checkpoint covering it is signed by the OLD key (a verifier pinned to the old
        key follows the rotation only through that checkpoint; ``translog.repin``).
        A failure before the key is stored leaves no key the log has not announced.
        Once stored, the new key countersigns that checkpoint and signs from then on.
        """
        old = self.sequencer.keys()[0]

        def announce(new_kid: str) -> None:
            with self.ctx.uow() as uow:
                uow.outbox.append(
                    Event(
                        EventType.KEY_ROTATED,
                        self.ctx.clock.now(),
                        {"key": LOG_KEY, "old_kid": old.kid, "new_kid": new_kid},
                    )
                )
            self.sequence_pending()  # the new key is not stored yet: the old one signs

        new = self.ctx.keystore.rotate_signing_key(LOG_KEY, "EdDSA", before_use=announce)
        head = self.sequencer.countersign_head()
        public = ed25519(new).public_key()
        size = head.size if head else 0
        return LogKeyRotation(old.kid, new.kid, verifier_key(self.origin, public), size)


def forget_personas(uow: UnitOfWork, persona_ids: Sequence[str]) -> int:
    """Erasure's purge: delete the commitment salts of erased personas (rows deleted)."""
    return TranslogRepo(uow.conn).forget_personas(persona_ids)
