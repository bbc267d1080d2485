"""Strict, fast decoding for the door check: base64url, JSON without duplicate keys, digests.

Everything here raises ``PassRejected("malformed")`` and nothing else on bad
input. The JSON reader parses with orjson, then proves the absence of duplicate
keys cheaply: if re-serialising the parsed value gives back the exact input
bytes, the input held no duplicates (orjson would have collapsed them, making
the output shorter). Input from other serialisers (whitespace, escapes) falls
back to the standard library with an ``object_pairs_hook`` that refuses them.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from typing import Any, TypeGuard

import orjson

from personae.verify._errors import PassRejected

MAX_DEPTH = 32

# Standard-alphabet translation that turns '+', '/' and '=' (not base64url, or
# padding) into '*', which strict a2b_base64 refuses.
_FROM_URL = bytes.maketrans(b"-_+/=", b"+/***")
_TO_URL = bytes.maketrans(b"+/", b"-_")
_PAD = (b"", b"", b"==", b"=")
# Last characters allowed when 2 or 3 characters trail a quantum: the unused
# low bits must be zero, so every byte string has exactly one encoding.
_TAIL = (b"", b"", frozenset(b"AQgw"), frozenset(b"AEIMQUYcgkosw048"))
_a2b = binascii.a2b_base64
_b2a = binascii.b2a_base64
_sha256 = hashlib.sha256
_loads = orjson.loads
_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError


def is_number(value: Any) -> TypeGuard[float]:
    """A JSON number (bools are ints in Python, and are not numbers here)."""
    kind = type(value)
    return kind is int or kind is float


def malformed() -> PassRejected:
    """The exception for anything that does not parse."""
    return PassRejected("malformed")


def b64d(data: bytes) -> bytes:
    """Strict unpadded base64url (ASCII bytes in): no padding, no stray or non-canonical bits."""
    rest = len(data) & 3
    if rest and (rest == 1 or data[-1] not in _TAIL[rest]):
        raise malformed()
    try:
        return _a2b(data.translate(_FROM_URL) + _PAD[rest], strict_mode=True)
    except binascii.Error:
        raise malformed() from None


def sha256_b64(data: bytes) -> str:
    """base64url(SHA-256(data)): disclosure digests and ``sd_hash``."""
    return _b2a(_sha256(data).digest(), newline=False)[:43].translate(_TO_URL).decode("ascii")


_NESTED = (dict, list)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests deeper than ``limit`` (iteratively, no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if type(node) is dict:
            stack.extend((child, depth + 1) for child in node.values() if type(child) in _NESTED)
        else:
            stack.extend((child, depth + 1) for child in node if type(child) in _NESTED)
    return False


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


def _check_structure(data: bytes, value: Any) -> None:
    """Refuse deep nesting and duplicate keys in ``data``, which orjson parsed to ``value``."""
    # Nesting depth is at most the number of opening brackets, and needs twice as many bytes.
    if (
        len(data) > 2 * MAX_DEPTH
        and data.count(b"[") + data.count(b"{") > MAX_DEPTH
        and _depth_exceeds(value, MAX_DEPTH)
    ):
        raise malformed()
    if b"{" in data and _dumps(value) != data:
        try:
            json.loads(data, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise malformed() from None


def loads(data: bytes) -> Any:
    """Parse JSON refusing duplicate keys, NaN/Infinity and nesting deeper than 32 levels."""
    try:
        value = _loads(data)
    except _JSONDecodeError:
        raise malformed() from None
    kind = type(value)
    if kind is dict or kind is list:
        _check_structure(data, value)
    return value


def loads_object(data: bytes) -> dict[str, Any]:
    """Strict JSON that must be an object."""
    value = loads(data)
    if type(value) is not dict:
        raise malformed()
    return value


def b64_json(data: bytes) -> Any:
    """Strict base64url, then strict JSON: :func:`b64d` and :func:`loads` in one step."""
    rest = len(data) & 3
    if rest and (rest == 1 or data[-1] not in _TAIL[rest]):
        raise malformed()
    try:
        raw = _a2b(data.translate(_FROM_URL) + _PAD[rest], strict_mode=True)
        value = _loads(raw)
    except (binascii.Error, _JSONDecodeError):
        raise malformed() from None
    kind = type(value)
    # Small documents without objects (disclosures) can hide neither depth nor duplicates.
    if (kind is dict or kind is list) and (len(raw) > 2 * MAX_DEPTH or b"{" in raw):
        _check_structure(raw, value)
    return value


def b64_json_object(data: bytes) -> dict[str, Any]:
    """A base64url-encoded JSON object, as in a JWS header or payload."""
    value = b64_json(data)
    if type(value) is not dict:
        raise malformed()
    return value
