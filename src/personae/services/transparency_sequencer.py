"""The transparency log's writer: the sequencer, its checks of the stored log, its thread.

The sequencer drains the accountability outbox in batches, one transaction per
batch (group commit): under the single-writer lock (an advisory lock on
PostgreSQL, BEGIN IMMEDIATE on SQLite) it checks the stored head against the last
checkpoint, restores the compact range from stored nodes, appends the leaves,
stores them with their nodes and salts, marks the events logged and writes a
signed checkpoint. A crash anywhere before the commit leaves nothing behind, so the
next run continues with no gap and no duplicate. ``self_check`` reads everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from personae.crypto.keystore import SigningKey
from personae.errors import KeystoreError, LogIntegrityError
from personae.services.context import ServiceContext
from personae.store.translog_repo import StoreConflict, StoredCheckpoint, TranslogRepo
from personae.translog.audit import LogDamage, audit_log
from personae.translog.checkpoint import (
    Checkpoint,
    CheckpointError,
    cosign_note,
    parse_checkpoint,
    sign_checkpoint,
)
from personae.translog.leaves import UnloggableEvent, prepare_leaves
from personae.translog.merkle import CompactRange, frontier_node_ids

log = logging.getLogger("personae.translog")

LOG_KEY = "log"
DEFAULT_BATCH_SIZE = 1000
AUDIT_CHUNK = 4096
SEQUENCE_INTERVAL_SECONDS = 1.0
"""How often `serve` drains the outbox into the log."""

AfterLeaves = Callable[[], None]
"""Called inside a batch's transaction once its leaves and nodes are written (fault tests)."""


@dataclass(frozen=True)
class Sequenced:
    """What one ``sequence_pending`` call appended, and the checkpoint it left."""

    events: int
    batches: int
    size: int
    root_hash: bytes


@dataclass(frozen=True)
class Audit:
    """A full self-check that passed."""

    size: int
    root_hash: bytes


def ed25519(key: SigningKey) -> Ed25519PrivateKey:
    """A log key's private key; the log signs with Ed25519 only."""
    if not isinstance(key.private_key, Ed25519PrivateKey):
        raise KeystoreError(f"log key {key.kid} is not an Ed25519 key")
    return key.private_key


class LogSequencer:
    """Appends the outbox to the stored log, and checks the stored log."""

    def __init__(
        self, ctx: ServiceContext, engine: Engine, origin: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        self.origin = origin
        self.batch_size = batch_size

    # -- keys ---------------------------------------------------------------------------

    def keys(self) -> list[SigningKey]:
        """Every log key, the active one first; read afresh, as another process may rotate."""
        keys = self.ctx.keystore.verification_keys(LOG_KEY)
        return keys or [self.ctx.keystore.signing_key(LOG_KEY, "EdDSA")]

    def _open(self, note: str, keys: Sequence[SigningKey]) -> Checkpoint:
        reason = "no log key"
        for key in keys:
            try:
                public = ed25519(key).public_key()
                return parse_checkpoint(note, self.origin, public, origin=self.origin)
            except CheckpointError as exc:
                reason = str(exc)
        raise LogIntegrityError(f"the last checkpoint does not verify under any log key: {reason}")

    # -- sequencing ---------------------------------------------------------------------

    def sequence_pending(
        self, *, batch_size: int | None = None, after_leaves: AfterLeaves | None = None
    ) -> Sequenced:
        """Log every pending event, one transaction per batch; the checkpoint left at the end."""
        size = batch_size or self.batch_size
        with self.snapshot() as repo:  # idle: no write lock taken
            head = repo.latest_checkpoint()
            if head is not None and not repo.pending(1):
                return Sequenced(0, 0, head.size, head.root_hash)
        events = batches = 0
        while True:
            count, head = self._sequence_batch(size, after_leaves)
            events += count
            batches += 1 if count else 0
            if count < size:
                return Sequenced(events, batches, head.size, head.root_hash)

    def _sequence_batch(
        self, batch_size: int, after_leaves: AfterLeaves | None
    ) -> tuple[int, StoredCheckpoint]:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            repo = TranslogRepo(uow.conn)
            repo.lock_for_sequencing()
            head = repo.latest_checkpoint()
            pending = repo.pending(batch_size)
            if head is not None and not pending:
                return 0, head
            # Read once the head is: a key is stored before it signs, so the one that
            # signed the head is among these, whichever process rotated it.
            keys = self.keys()
            signer = ed25519(keys[0])
            compact = self._check_head(repo, head, keys)
            first = compact.size
            try:
                leaves = prepare_leaves(pending, first)
            except UnloggableEvent as exc:
                raise LogIntegrityError(f"cannot log {exc}") from None
            nodes = compact.extend(leaf.hash for leaf in leaves)
            try:
                if leaves:
                    repo.store_batch(leaves, nodes)
                if after_leaves is not None:
                    after_leaves()
                root = compact.root()
                note = sign_checkpoint(
                    Checkpoint(self.origin, compact.size, root), self.origin, signer
                )
                repo.add_checkpoint(compact.size, root, note, now)
            except StoreConflict as exc:
                raise LogIntegrityError(
                    f"cannot append at index {first}: the store already holds rows past the "
                    f"last checkpoint (written outside the sequencer): {exc}"
                ) from None
        return len(leaves), StoredCheckpoint(compact.size, root, note, now)

    def _check_head(
        self, repo: TranslogRepo, head: StoredCheckpoint | None, keys: Sequence[SigningKey]
    ) -> CompactRange:
        """The compact range of the stored tree, once it is shown to match the last checkpoint.

        O(log n): the leaf count, the checkpoint's signature and the root folded
        from the stored frontier nodes (``self_check`` reads everything).
        """
        self._check_signed_size(repo, head, keys)
        if head is None:
            return CompactRange()
        ids = frontier_node_ids(head.size)
        found = repo.nodes([(node.level, node.index) for node in ids])
        for node in ids:
            if (node.level, node.index) not in found:
                raise LogIntegrityError(
                    f"stored node {node.index} at level {node.level} is missing "
                    f"(first bad index {node.index << node.level})"
                )
        compact = CompactRange.restore(head.size, lambda level, i: found[(level, i)])
        if compact.root() != head.root_hash:
            raise LogIntegrityError(
                f"the stored nodes do not give the root of the last checkpoint (size {head.size}):"
                " the log was altered; `personae log check` names the first bad leaf or node"
            )
        return compact

    def _check_signed_size(
        self, repo: TranslogRepo, head: StoredCheckpoint | None, keys: Sequence[SigningKey]
    ) -> None:
        """The last checkpoint verifies, and the store holds exactly the leaves it covers."""
        size = head.size if head else 0
        stored = repo.leaf_count()
        if stored != size:
            raise LogIntegrityError(
                f"the store holds leaves up to index {stored - 1} but the last checkpoint covers "
                f"{size} (first bad index {min(stored, size)})"
            )
        if head is not None:
            signed = self._open(head.note, keys)
            if (signed.size, signed.root_hash) != (head.size, head.root_hash):
                raise LogIntegrityError(
                    f"the last checkpoint's signed note (size {signed.size}) disagrees with its "
                    f"stored size and root (size {head.size})"
                )

    def countersign_head(self) -> StoredCheckpoint | None:
        """Add the active log key's signature to the latest checkpoint if it has none.

        After a rotation the latest checkpoint is the one the old key signed over the
        ``key.rotated`` entry; countersigned, it verifies under both keys, so a verifier
        meeting the log for the first time can pin the new key at once.
        """
        with self.ctx.uow() as uow:
            repo = TranslogRepo(uow.conn)
            repo.lock_for_sequencing()
            head = repo.latest_checkpoint()
            if head is None:
                return None
            keys = self.keys()
            self._check_signed_size(repo, head, keys)
            signer = ed25519(keys[0])
            try:
                parse_checkpoint(head.note, self.origin, signer.public_key(), origin=self.origin)
                return head
            except CheckpointError:
                pass
            note = cosign_note(head.note, self.origin, signer)
            repo.replace_note(head.size, note)
        return StoredCheckpoint(head.size, head.root_hash, note, head.created_at)

    # -- checks -------------------------------------------------------------------------

    def self_check(self) -> Audit:
        """Check the whole stored log: the last checkpoint's signature, every leaf against its
        entry, every node against the leaves, and the root. ``LogIntegrityError`` names the
        first bad leaf or node."""
        with self.snapshot() as repo:
            head = repo.latest_checkpoint()
            self._check_signed_size(repo, head, self.keys())
            size = head.size if head else 0
            try:
                root = audit_log(size, repo.leaf_rows, repo.nodes_in_ranges, AUDIT_CHUNK)
            except LogDamage as damage:
                raise LogIntegrityError(f"transparency log damaged: {damage}") from None
        if head is not None and root != head.root_hash:
            raise LogIntegrityError(
                f"the stored leaves and nodes agree, but not with the signed checkpoint at size "
                f"{size}: the log was rewritten"
            )
        return Audit(size, root)

    @contextmanager
    def snapshot(self) -> Iterator[TranslogRepo]:
        """A read transaction that sees one state of the log throughout."""
        conn = self.engine.connect()
        try:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield TranslogRepo(conn)
        finally:
            conn.close()
