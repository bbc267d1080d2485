"""Log entry encoding: RFC 8785 canonical JSON leaves and salted persona commitments."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence

import rfc8785

from personae.translog.merkle import leaf_hash

SALT_SIZE = 32

JsonValue = None | bool | int | float | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"]


def canonical_json(entry: Mapping[str, JsonValue]) -> bytes:
    """The RFC 8785 (JCS) bytes of an entry: the exact leaf data the log hashes.

    Raises ``rfc8785.CanonicalizationError`` (a ``ValueError``) for what JCS cannot
    represent: non-string keys, integers beyond ±(2**53 - 1), NaN or infinities.
    """
    return rfc8785.dumps(entry)


def entry_leaf_hash(entry: Mapping[str, JsonValue]) -> bytes:
    """The RFC 9162 leaf hash of an entry's canonical JSON."""
    return leaf_hash(canonical_json(entry))


def new_salt() -> bytes:
    """A fresh random salt for ``commitment``."""
    return secrets.token_bytes(SALT_SIZE)


def commitment(salt: bytes, persona_id: str) -> str:
    """Lowercase hex SHA-256(salt || persona_id as UTF-8): names a persona without revealing it.

    The salt has a fixed length, so the concatenation is unambiguous; whoever holds
    the salt can open the commitment, nobody else can test guesses against it.
    """
    if len(salt) != SALT_SIZE:
        raise ValueError(f"a commitment salt is {SALT_SIZE} bytes")
    return hashlib.sha256(salt + persona_id.encode("utf-8")).hexdigest()
