"""The independent verifier: checks a transparency log through its public HTTP API alone.

Each run checks (1) the latest checkpoint's signature under the key pinned on the
first run (trust on first use); (2) that the log only grew since the checkpoint
seen last time: a smaller size is a truncation, and the consistency proof between
the two must verify, or the log forked; (3) with ``full``, every entry is fetched
and the root recomputed from them. A failure names the first bad index wherever
the evidence allows: for a truncation the first entry gone; for a rewrite the
first entry that differs from one a full run verified before; for entries that do
not match their checkpoint, the one a binary search over consistency proofs finds.

A rotated log key is re-pinned only when asked (``repin``), and only on the old
key's word: a checkpoint the pinned key signed, extending the one seen before,
includes a ``key.rotated`` entry naming the new key (by its RFC 7638 thumbprint),
and the new key's checkpoint extends it (``translog.repin``).

State per log, under ``default_state_dir()`` or the one given: ``state.json``
(pinned key, origin, last checkpoint) and ``leaves`` (the leaf hashes of the
entries the last full run verified, 32 bytes each). Uses httpx (through
``translog.client``) and the pure core only.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from personae.translog.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    parse_checkpoint,
    parse_verifier_key,
)
from personae.translog.client import LogClient
from personae.translog.merkle import (
    HASH_SIZE,
    leaf_hash,
    node_hash,
    root_from_nodes,
    verify_consistency,
)
from personae.translog.repin import RepinRefused, ed25519_thumbprint, follow_rotations

__all__ = [
    "VerificationFailed",
    "Verified",
    "default_state_dir",
    "ed25519_thumbprint",
    "parse_key",
    "state_dir_for",
    "verify_log",
]


class VerificationFailed(Exception):
    """The log failed a check; ``index`` is the first bad entry when it is known."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class Verified:
    """A run that passed."""

    origin: str
    size: int
    root_hash: bytes
    previous_size: int | None
    full: bool
    pinned: str | None
    """The verifier key pinned by this run (first run or ``repin``), if any."""

    def summary(self) -> str:
        root = base64.b64encode(self.root_hash).decode("ascii")
        said = [f"ok: {self.origin} at size {self.size}, root {root}"]
        if self.previous_size is not None:
            said.append(f"consistent with size {self.previous_size} seen before")
        if self.full:
            said.append(f"root recomputed from all {self.size} entries")
        if self.pinned:
            said.append(f"pinned key {self.pinned}")
        return "; ".join(said)


@dataclass(frozen=True)
class _State:
    url: str
    origin: str
    verifier_key: str
    size: int
    root_hash: bytes
    checkpoint: str


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/personae/logs`` (``~/.local/state/personae/logs`` by default)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "personae" / "logs"


def state_dir_for(base: Path, url: str) -> Path:
    """The directory that keeps what the verifier saw of the log at ``url``."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_")
    return base / (slug or "log")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _load_state(directory: Path) -> _State | None:
    path = directory / "state.json"
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text("utf-8"))
        return _State(
            doc["url"],
            doc["origin"],
            doc["verifier_key"],
            int(doc["size"]),
            base64.b64decode(doc["root"]),
            doc["checkpoint"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise VerificationFailed(f"the verifier state {path} is unreadable ({exc})") from None


def _save_state(directory: Path, state: _State) -> None:
    doc = {
        "url": state.url,
        "origin": state.origin,
        "verifier_key": state.verifier_key,
        "size": state.size,
        "root": base64.b64encode(state.root_hash).decode("ascii"),
        "checkpoint": state.checkpoint,
    }
    _write(directory / "state.json", json.dumps(doc, indent=1).encode("utf-8"))


def _load_leaves(directory: Path) -> list[bytes]:
    path = directory / "leaves"
    data = path.read_bytes() if path.exists() else b""
    return [data[i : i + HASH_SIZE] for i in range(0, len(data) - HASH_SIZE + 1, HASH_SIZE)]


class _Tree:
    """Every complete subtree of a list of leaf hashes, level by level, in memory."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels = [b"".join(leaves)]
        while len(self.levels[-1]) >= 2 * HASH_SIZE:
            below, above = self.levels[-1], bytearray()
            for i in range(0, len(below) - 2 * HASH_SIZE + 1, 2 * HASH_SIZE):
                above += node_hash(
                    below[i : i + HASH_SIZE], below[i + HASH_SIZE : i + 2 * HASH_SIZE]
                )
            self.levels.append(bytes(above))

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE]

    def root(self, size: int) -> bytes:
        return root_from_nodes(size, self.node)


def parse_key(text: str) -> VerifierKey:
    """A C2SP verifier key ``<name>+<hex key ID>+<base64(0x01 || Ed25519 key)>``."""
    try:
        return parse_verifier_key(text)
    except CheckpointError as exc:
        raise VerificationFailed(f"the log's verifier key is malformed: {exc}") from None


def verify_log(
    client: LogClient, state_dir: Path, url: str, *, full: bool = False, repin: bool = False
) -> Verified:
    """Verify the log behind ``client``; keep what was verified in ``state_dir``."""
    state = _load_state(state_dir)
    key_text = state.verifier_key if state else client.verifier_key()
    key = parse_key(key_text)
    note = client.checkpoint()
    pinned = None if state else key_text
    try:
        head = parse_checkpoint(
            note, key.name, key.public_key, origin=state.origin if state else None
        )
    except CheckpointError as exc:
        if not (repin and state):
            raise VerificationFailed(_signature_failure(client, key_text, exc)) from None
        try:
            key_text, head = follow_rotations(
                client,
                note,
                origin=state.origin,
                pinned=state.verifier_key,
                size=state.size,
                root_hash=state.root_hash,
            )
        except RepinRefused as refused:
            raise VerificationFailed(str(refused)) from None
        pinned = key_text
    if state is not None:
        _check_extends(client, state_dir, state, head)
    hashes = _check_entries(client, state_dir, head) if full else None
    _save_state(state_dir, _State(url, head.origin, key_text, head.size, head.root_hash, note))
    if hashes is not None:
        _write(state_dir / "leaves", b"".join(hashes))
    return Verified(
        head.origin, head.size, head.root_hash, state.size if state else None, full, pinned
    )


def _signature_failure(client: LogClient, pinned: str, exc: CheckpointError) -> str:
    message = f"the checkpoint does not verify under the pinned log key {pinned}: {exc}"
    presented = client.verifier_key()
    if presented != pinned:
        message += (
            f"; the server now presents key {presented}: if its operator rotated the log key,"
            " check the key.rotated entry and run again with --repin"
        )
    return message


def _check_extends(client: LogClient, state_dir: Path, state: _State, head: Checkpoint) -> None:
    """The log at ``head`` extends the checkpoint seen last time, or a failure naming why."""
    old, new = state.size, head.size
    if new < old:
        raise VerificationFailed(
            f"truncated: the log has {new} entries but {old} were seen before; "
            f"entries from index {new} are gone",
            new,
        )
    if old == new and head.root_hash == state.root_hash:
        return
    proof = client.consistency_proof(old, new) if old != new else []
    if not verify_consistency(old, new, state.root_hash, head.root_hash, proof):
        raise _fork(client, state_dir, state, head)


def _fork(
    client: LogClient, state_dir: Path, state: _State, head: Checkpoint
) -> VerificationFailed:
    """Name the first entry that differs from those a full run verified before."""
    seen = _load_leaves(state_dir)[: min(state.size, head.size)]
    what = (
        f"the log at size {head.size} does not extend the checkpoint seen before "
        f"(size {state.size})"
    )
    if not seen:
        return VerificationFailed(
            f"fork: {what}; no entry hashes were kept to name the first bad index "
            "(a run with --full keeps them)"
        )
    for index, data in enumerate(client.entries(0, len(seen))):
        if leaf_hash(data) != seen[index]:
            return VerificationFailed(
                f"fork: {what}: entry {index} differs from the one verified before", index
            )
    return VerificationFailed(
        f"fork: {what}, though its first {len(seen)} entries are those verified before"
    )


def _check_entries(client: LogClient, state_dir: Path, head: Checkpoint) -> list[bytes]:
    """Fetch every entry; check it against those verified before and the root against ``head``."""
    hashes = [leaf_hash(data) for data in client.entries(0, head.size)]
    for index, (before, now) in enumerate(zip(_load_leaves(state_dir), hashes, strict=False)):
        if before != now:
            raise VerificationFailed(
                f"rewritten: entry {index} differs from the one verified before", index
            )
    tree = _Tree(hashes)
    if tree.root(head.size) != head.root_hash:
        index = _first_bad(client, tree, head)
        raise VerificationFailed(
            f"entry {index} does not match the signed checkpoint (size {head.size}): "
            "the log's content was altered",
            index,
        )
    return hashes


def _first_bad(client: LogClient, tree: _Tree, head: Checkpoint) -> int:
    """The first entry whose prefix no longer matches the signed tree (binary search).

    The prefix of size ``k`` matches when the server's consistency proof from ``k``
    to the checkpoint verifies against the root recomputed from the entries.
    """
    good, bad = 0, head.size
    while bad - good > 1:
        mid = (good + bad) // 2
        proof = client.consistency_proof(mid, head.size)
        if verify_consistency(mid, head.size, tree.root(mid), head.root_hash, proof):
            good = mid
        else:
            bad = mid
    return bad - 1
