"""Keyed pseudonyms (persona ids), the escrowed reverse link, and keyed lookup hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from personae.crypto import envelope

PERSONA_ID_LENGTH = 32  # 160 bits of HMAC output, base32 lower case
PERSONA_ID_PATTERN = re.compile(r"^[a-z2-7]{32}$")


def _framed(*parts: str) -> bytes:
    """Length-prefixed concatenation, so no two different tuples share an encoding."""
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8")
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def persona_id(pseudonym_key: bytes, world_id: str, person_id: str) -> str:
    """``base32(HMAC-SHA256(pseudonym_key, world_id ‖ person_id))``, truncated to 160 bits.

    Deterministic per (world, person): rejoining a world gives the same persona,
    and without the key two personas of one person cannot be linked.
    """
    mac = hmac.new(pseudonym_key, _framed("persona", world_id, person_id), hashlib.sha256)
    return base64.b32encode(mac.digest()[:20]).decode("ascii").lower()


def is_persona_id(text: str) -> bool:
    return bool(PERSONA_ID_PATTERN.match(text))


def _escrow_aad(persona: str, world_id: str) -> bytes:
    return b"personae/escrow/" + _framed(persona, world_id)


def seal_escrow(escrow_key: bytes, persona: str, world_id: str, person_id: str) -> bytes:
    """The persona → person link, sealed; opened only by an approved unmasking."""
    return envelope.seal(escrow_key, person_id.encode("ascii"), _escrow_aad(persona, world_id))


def open_escrow(escrow_key: bytes, persona: str, world_id: str, sealed: bytes) -> str:
    return envelope.open_sealed(escrow_key, sealed, _escrow_aad(persona, world_id)).decode("ascii")


def lookup_hash(lookup_key: bytes, kind: str, *parts: str) -> bytes:
    """A keyed hash to find a record by a value the store must not hold in clear.

    Used for login handles and for evidence subjects (issuer ‖ subject id): the
    database can refuse a duplicate without learning the value it refused.
    """
    return hmac.new(lookup_key, _framed(kind, *parts), hashlib.sha256).digest()
