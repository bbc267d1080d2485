"""Token Status List (draft-ietf-oauth-status-list): status bitstrings, compression and tokens.

A status list is a byte array holding one status per index, ``bits`` bits each;
index 0 is the least significant bit(s) of byte 0. personae writes 1-bit lists
(0 valid, 1 revoked) and reads 1, 2, 4 or 8-bit ones. The list travels DEFLATE
compressed in the ZLIB format and base64url encoded (``lst``) inside a status
list token, a JWT with ``typ: statuslist+jwt`` signed by the pass issuer.

This module imports only the standard library, orjson and ``personae.crypto.jose``
so that the world-side SDK (``personae.verify``) may decode lists with it.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from personae.crypto.jose import PrivateKey, b64url_decode, b64url_encode, sign_compact

STATUS_LIST_TYP = "statuslist+jwt"
VALID = 0
REVOKED = 1
ALLOWED_BITS = frozenset({1, 2, 4, 8})
DEFAULT_MAX_LIST_BYTES = 1 << 24  # 16 MiB decompressed: 134 million one-bit statuses


def new_status_list(capacity: int) -> bytearray:
    """An all-valid 1-bit list with room for at least ``capacity`` statuses."""
    if capacity <= 0:
        raise ValueError("status list capacity must be positive")
    return bytearray((capacity + 7) // 8)


def _locate(data: bytes | bytearray, idx: int) -> tuple[int, int]:
    if type(idx) is not int or idx < 0 or idx >= len(data) * 8:
        raise IndexError("status index out of range")
    return idx >> 3, 1 << (idx & 7)


def set_bit(data: bytearray, idx: int) -> None:
    """Mark status ``idx`` of a 1-bit list as revoked."""
    byte, mask = _locate(data, idx)
    data[byte] |= mask


def clear_bit(data: bytearray, idx: int) -> None:
    """Mark status ``idx`` of a 1-bit list as valid again (e.g. a lifted suspension)."""
    byte, mask = _locate(data, idx)
    data[byte] &= ~mask & 0xFF


def get_bit(data: bytes | bytearray, idx: int) -> int:
    """The status (0 or 1) at ``idx`` of a 1-bit list."""
    byte, mask = _locate(data, idx)
    return 1 if data[byte] & mask else 0


def status_at(data: bytes | bytearray, idx: int, bits: int) -> int | None:
    """The status at ``idx`` of a ``bits``-bit list, or None when ``idx`` is out of range."""
    per_byte = 8 // bits
    byte = idx // per_byte
    if idx < 0 or byte >= len(data):
        return None
    return (data[byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1)


def encode_lst(data: bytes | bytearray) -> str:
    """The ``lst`` member: base64url(ZLIB/DEFLATE(data)) at the best compression level."""
    return b64url_encode(zlib.compress(bytes(data), 9))


def decode_lst(lst: str, *, max_bytes: int = DEFAULT_MAX_LIST_BYTES) -> bytes:
    """The byte array inside an ``lst`` member; refuses oversize (zip bomb) or trailing data."""
    compressed = b64url_decode(lst)
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise ValueError("status list is not valid ZLIB data") from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise ValueError("status list too large")
    if not inflater.eof or inflater.unused_data:
        raise ValueError("status list ZLIB stream is truncated or has trailing data")
    return data


def decode_status_list(claim: Any, *, max_bytes: int = DEFAULT_MAX_LIST_BYTES) -> tuple[int, bytes]:
    """``(bits, data)`` from a token's ``status_list`` claim; raises ValueError if malformed."""
    if not isinstance(claim, dict):
        raise ValueError("status_list must be an object")
    bits, lst = claim.get("bits"), claim.get("lst")
    if type(bits) is not int or bits not in ALLOWED_BITS:
        raise ValueError("status_list.bits must be 1, 2, 4 or 8")
    if not isinstance(lst, str):
        raise ValueError("status_list.lst must be a string")
    return bits, decode_lst(lst, max_bytes=max_bytes)


def _seconds(value: int | datetime) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return int(value.timestamp())
    return int(value)


def status_list_token(
    signing_key: PrivateKey,
    kid: str,
    *,
    uri: str,
    data: bytes | bytearray,
    issued_at: int | datetime,
    expires_at: int | datetime,
    ttl: int,
    issuer: str | None = None,
) -> str:
    """A signed status list token (JWT, ``typ: statuslist+jwt``) for the 1-bit list ``data``."""
    iat, exp = _seconds(issued_at), _seconds(expires_at)
    if exp <= iat:
        raise ValueError("status list token must expire after it is issued")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    payload: dict[str, Any] = {"sub": uri, "iat": iat, "exp": exp, "ttl": ttl}
    if issuer is not None:
        payload["iss"] = issuer
    payload["status_list"] = {"bits": 1, "lst": encode_lst(data)}
    return sign_compact(signing_key, {"typ": STATUS_LIST_TYP, "kid": kid}, payload)
