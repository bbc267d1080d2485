"""Issuing world passes: SD-JWT VCs (RFC 9901, draft-ietf-oauth-sd-jwt-vc), one disclosure a claim.

A pass is ``<issuer-signed JWT>~<disclosure>~...~<disclosure>~``. The JWT carries
the registered claims in the clear (``iss``, ``vct``, ``sub``, ``iat``, ``exp``,
``cnf``, ``status``) and, in ``_sd``, the sorted SHA-256 digests of every
disclosure plus decoys. Each disclosure is ``base64url([salt, name, value])``
with a fresh 128-bit salt. This sits on the issuing hot path, so it does one
random read, one JSON dump per disclosure and one signature, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from personae.crypto.jose import PrivateKey, alg_for, sign_raw

SD_JWT_TYP = "dc+sd-jwt"
SD_ALG = "sha-256"
SALT_BYTES = 16

#: Claim names a pass sets itself; a disclosable claim may not reuse them.
RESERVED_CLAIMS = frozenset(
    {
        "iss",
        "sub",
        "iat",
        "exp",
        "nbf",
        "vct",
        "vct#integrity",
        "cnf",
        "status",
        "_sd",
        "_sd_alg",
        "...",
    }
)

JSON = Any
_b64encode = base64.urlsafe_b64encode
_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class IssuedPass:
    """A freshly issued pass: the SD-JWT to hand to the holder, and its parts."""

    sd_jwt: str
    """``<jwt>~<d1>~...~<dn>~``, what the holder stores and presents from."""
    jwt: str
    """The issuer-signed JWT alone."""
    disclosures: Mapping[str, str]
    """Claim name to its encoded disclosure."""


def disclosure_digest(disclosure: str) -> str:
    """The ``_sd`` digest of an encoded disclosure: base64url(SHA-256(ASCII bytes))."""
    return _b64encode(_sha256(disclosure.encode("ascii")).digest())[:43].decode("ascii")


@lru_cache(maxsize=64)
def _encoded_header(alg: str, kid: str) -> bytes:
    return _b64encode(orjson.dumps({"typ": SD_JWT_TYP, "alg": alg, "kid": kid})).rstrip(b"=")


def _seconds(value: int | datetime) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return int(value.timestamp())
    if type(value) is not int:
        raise TypeError("times are int seconds since the epoch or aware datetimes")
    return value


def _check_value(value: JSON, depth: int = 0) -> None:
    """Refuse claim values that a verifier would read as SD-JWT structure (or nest absurdly)."""
    if depth > 30:
        raise ValueError("claim value nested too deeply")
    if isinstance(value, dict):
        if "_sd" in value or "..." in value:
            raise ValueError("claim values may not use the reserved keys '_sd' or '...'")
        for item in value.values():
            _check_value(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_value(item, depth + 1)


def issue_pass(
    signing_key: PrivateKey,
    kid: str,
    *,
    issuer: str,
    vct: str,
    subject: str,
    issued_at: int | datetime,
    expires_at: int | datetime,
    holder_jwk: Mapping[str, str],
    status_uri: str,
    status_idx: int,
    claims: Mapping[str, JSON],
    decoys: int = 0,
) -> IssuedPass:
    """Issue a holder-bound pass with every claim selectively disclosable.

    ``decoys`` extra digests hide how many claims the pass carries. Raises
    ValueError for reserved claim names, a private or untyped holder key, an
    empty validity window or a negative status index or decoy count.
    """
    iat, exp = _seconds(issued_at), _seconds(expires_at)
    if exp <= iat:
        raise ValueError("a pass must expire after it is issued")
    if type(status_idx) is not int or status_idx < 0:
        raise ValueError("status_idx must be a non-negative int")
    if decoys < 0:
        raise ValueError("decoys must be non-negative")
    if "d" in holder_jwk or holder_jwk.get("kty") not in ("EC", "OKP"):
        raise ValueError("holder_jwk must be a public EC or OKP key")

    count = len(claims)
    random = os.urandom(SALT_BYTES * count + 32 * decoys)
    disclosures: dict[str, str] = {}
    digests: list[str] = []
    offset = 0
    for name, value in claims.items():
        if type(name) is not str or name in RESERVED_CLAIMS:
            raise ValueError(f"claim name {name!r} is reserved or not a string")
        if isinstance(value, dict | list | tuple):
            _check_value(value)
        salt = _b64encode(random[offset : offset + SALT_BYTES])[:22].decode("ascii")
        offset += SALT_BYTES
        encoded = _b64encode(orjson.dumps([salt, name, value])).rstrip(b"=")
        disclosures[name] = encoded.decode("ascii")
        digests.append(_b64encode(_sha256(encoded).digest())[:43].decode("ascii"))
    for _ in range(decoys):
        # RFC 9901 §4.2.5: decoys are digests over cryptographically random bytes.
        digests.append(_b64encode(_sha256(random[offset : offset + 32]).digest())[:43].decode())
        offset += 32
    digests.sort()

    payload = {
        "iss": issuer,
        "vct": vct,
        "sub": subject,
        "iat": iat,
        "exp": exp,
        "cnf": {"jwk": dict(holder_jwk)},
        "status": {"status_list": {"idx": status_idx, "uri": status_uri}},
        "_sd_alg": SD_ALG,
        "_sd": digests,
    }
    signing_input = (
        _encoded_header(alg_for(signing_key), kid)
        + b"."
        + _b64encode(orjson.dumps(payload)).rstrip(b"=")
    )
    jwt = (
        signing_input + b"." + _b64encode(sign_raw(signing_key, signing_input)).rstrip(b"=")
    ).decode("ascii")
    sd_jwt = "~".join((jwt, *disclosures.values(), ""))
    return IssuedPass(sd_jwt=sd_jwt, jwt=jwt, disclosures=disclosures)
