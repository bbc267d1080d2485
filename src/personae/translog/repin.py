"""Following a rotated log key: a verifier pins a new key only on the old key's word.

A verifier that pinned key K0 at the checkpoint (S0, r0) accepts the key K1 a
server now presents only when

1. a checkpoint C signed by K0 extends (S0, r0) (consistency proof);
2. C includes (inclusion proof) a ``key.rotated`` entry of the log key whose
   ``old_kid`` is K0's RFC 7638 thumbprint and whose ``new_kid`` is K1's;
3. the latest checkpoint, signed by K1, extends C (consistency proof).

The server never vouches for its own key: a man in the middle who appends a
``key.rotated`` entry naming a key of its own cannot get it pinned, as no
checkpoint K0 signed includes that entry. Keys rotated more than once are
followed step by step (K0 → K1 → K2 …), each step vouched for by a checkpoint the
key it replaces signed. The server rotates so that such a checkpoint always
exists (``services.transparency.rotate_log_key``).

C is found by binary search over the server's stored checkpoints
(``GET /v1/log/checkpoint?min_size=S``: the oldest of at least S entries) for the
last one a key followed so far signed; the entry, by reading back from C's end.
How they are found only decides whether a rotation is found at all: whatever is
accepted is checked against a pinned signature and the RFC 9162 proofs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from personae.translog.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    parse_checkpoint,
    parse_verifier_key,
)
from personae.translog.client import ENTRIES_PAGE, LogClient
from personae.translog.merkle import leaf_hash, verify_consistency, verify_inclusion

MAX_ROTATIONS = 32
"""Most key rotations one run follows."""


class RepinRefused(Exception):
    """The presented key is not one the pinned key handed over to."""


@dataclass(frozen=True)
class _Tree:
    size: int
    root_hash: bytes


def ed25519_thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint of an Ed25519 key (how ``key.rotated`` entries name keys).

    ``crypto.keystore.jwk_thumbprint`` computes the same (a test holds them equal); the
    verifier imports no server code.
    """
    x = base64.urlsafe_b64encode(public_key.public_bytes_raw()).rstrip(b"=").decode("ascii")
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _key(text: str) -> VerifierKey:
    try:
        return parse_verifier_key(text)
    except CheckpointError as exc:
        raise RepinRefused(f"not re-pinning: the server sent a malformed key: {exc}") from None


def follow_rotations(
    client: LogClient, note: str, *, origin: str, pinned: str, size: int, root_hash: bytes
) -> tuple[str, Checkpoint]:
    """The key the server presents and the checkpoint ``note`` it signed, once the key
    pinned at the tree (``size``, ``root_hash``) is shown to have handed over to it."""
    presented = client.verifier_key()
    target = _key(presented)
    try:
        head = parse_checkpoint(note, target.name, target.public_key, origin=origin)
    except CheckpointError as exc:
        raise RepinRefused(f"the checkpoint does not verify under the new key: {exc}") from None
    named = {
        ed25519_thumbprint(_key(text).public_key): text
        for text in [*client.verifier_keys(), presented]
    }
    chain = [_key(pinned)]
    seen = _Tree(size, root_hash)
    for _ in range(MAX_ROTATIONS):
        current = chain[-1]
        if current.encode() == target.encode():
            break
        vouched = _last_signed(client, origin, chain, seen.size, head.size)
        _extends(client, seen, vouched, f"the checkpoint key {current.encode()} signed last")
        successor = named.get(_announced_successor(client, current, vouched), "")
        if not successor:
            raise RepinRefused(
                f"not re-pinning: the key the log announced after {current.encode()} "
                "is not among the keys the server presents"
            )
        chain.append(_key(successor))
        seen = _Tree(vouched.size, vouched.root_hash)
    else:
        raise RepinRefused(f"not re-pinning: more than {MAX_ROTATIONS} key rotations to follow")
    _extends(client, seen, head, "the checkpoint the new key signed")
    return presented, head


def _extends(client: LogClient, old: _Tree, new: Checkpoint, what: str) -> None:
    """``new`` extends ``old`` (a consistency proof), or the repin is refused."""
    if new.size < old.size:
        ok = False
    elif new.size == old.size:
        ok = new.root_hash == old.root_hash
    else:
        proof = client.consistency_proof(old.size, new.size)
        ok = verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
    if not ok:
        raise RepinRefused(
            f"not re-pinning: {what} (size {new.size}) does not extend the log "
            f"verified before (size {old.size})"
        )


def _signed(note: str, origin: str, keys: Sequence[VerifierKey]) -> Checkpoint | None:
    for key in reversed(keys):
        try:
            return parse_checkpoint(note, key.name, key.public_key, origin=origin)
        except CheckpointError:
            continue
    return None


def _last_signed(
    client: LogClient, origin: str, chain: Sequence[VerifierKey], low: int, high: int
) -> Checkpoint:
    """The last checkpoint of ``low``..``high`` entries signed by a key of ``chain``
    (binary search: the keys sign one after another), checked to be the last key's."""

    def oldest(size: int) -> tuple[Checkpoint, str] | None:
        note = client.checkpoint(min_size=size)
        found = _signed(note, origin, chain)
        if found is None:
            return None
        if found.size < size:
            raise RepinRefused(f"not re-pinning: asked for {size} entries, the server sent fewer")
        return found, note

    current = chain[-1]
    best = oldest(low)
    if best is None:
        raise RepinRefused(
            f"not re-pinning: no checkpoint of at least {low} entries is signed by the key "
            f"pinned before ({current.encode()})"
        )
    lo, hi = low, high
    while lo < hi:
        mid = (lo + hi + 1) // 2
        found = oldest(mid)
        if found is None:
            hi = mid - 1
        else:
            lo = mid
            best = found if found[0].size > best[0].size else best
    checkpoint, note = best
    if _signed(note, origin, [current]) is None:
        raise RepinRefused(
            f"not re-pinning: no checkpoint after size {low} is signed by key {current.encode()}"
        )
    return checkpoint


def _announced_successor(client: LogClient, key: VerifierKey, vouched: Checkpoint) -> str:
    """The thumbprint of the key a ``key.rotated`` entry in ``vouched`` hands ``key`` over to
    (the last such entry, shown included in ``vouched`` by an inclusion proof)."""
    thumbprint = ed25519_thumbprint(key.public_key)
    end = vouched.size
    while end > 0:
        start = max(0, end - ENTRIES_PAGE)
        page = client.entries(start, end)
        for offset in range(len(page) - 1, -1, -1):
            successor = _successor(page[offset], thumbprint)
            if successor is None:
                continue
            index = start + offset
            proof = client.inclusion_proof(index, vouched.size)
            if not verify_inclusion(
                leaf_hash(page[offset]), index, vouched.size, proof, vouched.root_hash
            ):
                raise RepinRefused(
                    f"not re-pinning: entry {index}, a key.rotated entry, is not in the "
                    f"checkpoint of size {vouched.size} that key {key.encode()} signed"
                )
            return successor
        end = start
    raise RepinRefused(
        f"not re-pinning: no key.rotated entry in the log key {key.encode()} signed "
        f"(size {vouched.size}) hands it over to another key"
    )


def _successor(data: bytes, old_thumbprint: str) -> str | None:
    try:
        entry = json.loads(data)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    new = entry.get("new_kid")
    announced = (entry.get("type"), entry.get("key"), entry.get("old_kid"))
    if announced == ("key.rotated", "log", old_thumbprint) and isinstance(new, str):
        return new
    return None
