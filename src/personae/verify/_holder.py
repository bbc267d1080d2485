"""The holder's side of a pass: choosing what to disclose and binding a presentation to a door.

These functions trust the pass they are given (it is the holder's own, from
their issuer) and raise ValueError if it is not an SD-JWT; they do not verify
the issuer signature. Disclosing a claim discloses it entirely, including any
disclosures nested inside its value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

import orjson

from personae.crypto.jose import PrivateKey, alg_for, b64url_decode, b64url_encode, sign_compact

KB_JWT_TYP = "kb+jwt"


def _split(sd_jwt: str) -> tuple[str, list[str]]:
    if not isinstance(sd_jwt, str) or not sd_jwt.endswith("~"):
        raise ValueError("an SD-JWT without key binding ends with '~'")
    jwt, *disclosures = sd_jwt[:-1].split("~")
    if jwt.count(".") != 2 or "" in disclosures:
        raise ValueError("not an SD-JWT")
    return jwt, disclosures


def _digest(disclosure: str) -> str:
    return b64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def _decode(part: str) -> Any:
    try:
        return orjson.loads(b64url_decode(part))
    except ValueError as exc:  # JoseError and orjson.JSONDecodeError are ValueErrors
        raise ValueError("not an SD-JWT") from exc


def _payload_and_digests(jwt: str) -> tuple[dict[str, Any], list[str]]:
    """The pass payload and its top-level ``_sd`` digests, shape-checked."""
    payload = _decode(jwt.split(".")[1])
    digests = payload.get("_sd", []) if isinstance(payload, dict) else None
    if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
        raise ValueError("not an SD-JWT")
    return payload, digests


def _claim(item: Any) -> tuple[str, Any] | None:
    """(name, value) of a decoded object-property disclosure; None for any other shape."""
    if isinstance(item, list) and len(item) == 3 and isinstance(item[1], str):
        return item[1], item[2]
    return None


def _nested_digests(value: Any, out: list[str]) -> None:
    """Every digest (``_sd`` entries and ``{"...": d}`` elements) inside ``value``."""
    if isinstance(value, dict):
        if isinstance(value.get("_sd"), list):
            out.extend(d for d in value["_sd"] if isinstance(d, str))
        if len(value) == 1 and isinstance(value.get("..."), str):
            out.append(value["..."])
        for key, item in value.items():
            if key != "_sd":
                _nested_digests(item, out)
    elif isinstance(value, list):
        for item in value:
            _nested_digests(item, out)


def disclosable_claims(sd_jwt: str) -> dict[str, Any]:
    """The top-level claims a pass can disclose, by name, with their (raw) values."""
    jwt, disclosures = _split(sd_jwt)
    _, top = _payload_and_digests(jwt)
    decoded = {_digest(d): _decode(d) for d in disclosures}
    return dict(claim for digest in top if (claim := _claim(decoded.get(digest))) is not None)


def select_disclosures(sd_jwt: str, names: Collection[str]) -> str:
    """The SD-JWT keeping only the disclosures of the top-level claims ``names``.

    Returns ``<jwt>~<d>~...~`` (ready for :func:`bind_presentation`) with the
    disclosures in their issued order. Raises ValueError for a name the pass
    cannot disclose.
    """
    jwt, disclosures = _split(sd_jwt)
    payload, top = _payload_and_digests(jwt)
    by_digest = {_digest(d): d for d in disclosures}
    decoded = {digest: _decode(d) for digest, d in by_digest.items()}
    wanted = set(names)
    keep: set[str] = set()
    pending: list[str] = []
    for digest in top:
        claim = _claim(decoded.get(digest))
        if claim is not None and claim[0] in wanted:
            wanted.discard(claim[0])
            pending.append(digest)
    for name, value in payload.items():
        if name in wanted and name != "_sd":
            wanted.discard(name)  # a plain claim: always visible; disclose what nests inside
            _nested_digests(value, pending)
    if wanted:
        raise ValueError(f"the pass cannot disclose {sorted(wanted)}")
    while pending:
        digest = pending.pop()
        if digest in keep or digest not in decoded:
            continue
        keep.add(digest)
        item = decoded[digest]
        if isinstance(item, list) and item:  # a disclosure's value comes last
            _nested_digests(item[-1], pending)
    chosen = [d for digest, d in by_digest.items() if digest in keep]
    return "~".join((jwt, *chosen, ""))


def _seconds(value: float | datetime) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return int(value.timestamp())
    return int(value)


def bind_presentation(
    sd_jwt: str,
    holder_key: PrivateKey,
    *,
    audience: str,
    nonce: str,
    issued_at: float | datetime,
) -> str:
    """Append a key-binding JWT (``typ: kb+jwt``) signed by ``holder_key``.

    ``sd_jwt`` is ``<jwt>~<d>~...~`` as returned by :func:`select_disclosures`;
    the KB-JWT's ``sd_hash`` covers exactly those characters.
    """
    _split(sd_jwt)
    sd_hash = b64url_encode(hashlib.sha256(sd_jwt.encode("ascii")).digest())
    payload = {"iat": _seconds(issued_at), "aud": audience, "nonce": nonce, "sd_hash": sd_hash}
    alg_for(holder_key)  # refuses curves other than P-256 before signing
    return sd_jwt + sign_compact(holder_key, {"typ": KB_JWT_TYP}, payload)


def present(
    sd_jwt: str,
    holder_key: PrivateKey,
    *,
    disclose: Collection[str],
    audience: str,
    nonce: str,
    issued_at: float | datetime,
) -> str:
    """A presentation for one door: the chosen disclosures plus a fresh key-binding JWT."""
    return bind_presentation(
        select_disclosures(sd_jwt, disclose),
        holder_key,
        audience=audience,
        nonce=nonce,
        issued_at=issued_at,
    )
