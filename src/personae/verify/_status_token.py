"""Verifying a status list token (``typ: statuslist+jwt``) against the pass issuer's keys."""

from __future__ import annotations

from dataclasses import dataclass

from personae.crypto.statuslist import STATUS_LIST_TYP, decode_status_list
from personae.verify._codec import b64_json_object, is_number
from personae.verify._errors import PassRejected
from personae.verify._jws import prepare_signature, signature_ok, split_jws
from personae.verify._providers import IssuerKeys


class StatusTokenInvalid(ValueError):
    """A status list token that is malformed, not the issuer's, or not current."""


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """The verified content of a status list token."""

    uri: str
    issuer: str
    bits: int
    data: bytes
    iat: float
    exp: float | None
    ttl: float | None


def verify_status_list_token(
    token: bytes,
    *,
    uri: str,
    issuer: str,
    issuer_keys: IssuerKeys,
    now: float,
    skew_seconds: float,
    max_list_bytes: int,
) -> StatusListToken:
    """Check type, signature (by a key of ``issuer``), ``sub`` = ``uri`` and times; decode."""
    token = token.strip()
    try:
        h64, p64, s64, signing_input = split_jws(token)
        header = b64_json_object(h64)
        payload = b64_json_object(p64)
    except PassRejected as exc:
        raise StatusTokenInvalid("status list token is malformed") from exc
    if header.get("typ") != STATUS_LIST_TYP or "crit" in header:
        raise StatusTokenInvalid("not a status list token")
    kid = header.get("kid")
    key = issuer_keys.key_for(issuer, kid, now) if isinstance(kid, str) else None
    if key is None or header.get("alg") != key.alg:
        raise StatusTokenInvalid("status list token is not signed by a key of the pass issuer")
    try:
        signature = prepare_signature(key.alg, s64)
    except PassRejected as exc:
        raise StatusTokenInvalid("status list token signature is malformed") from exc
    if not signature_ok(key.key, key.alg, signing_input, signature):
        raise StatusTokenInvalid("status list token signature does not verify")
    if payload.get("sub") != uri:
        raise StatusTokenInvalid("status list token is for another URI")
    if payload.get("iss", issuer) != issuer:
        raise StatusTokenInvalid("status list token is from another issuer")
    iat, exp, ttl = payload.get("iat"), payload.get("exp"), payload.get("ttl")
    if not is_number(iat) or iat > now + skew_seconds:
        raise StatusTokenInvalid("status list token iat missing or in the future")
    if exp is not None and (not is_number(exp) or now >= exp):
        raise StatusTokenInvalid("status list token expired")
    if ttl is not None and (not is_number(ttl) or ttl <= 0):
        raise StatusTokenInvalid("status list token ttl must be a positive number")
    try:
        bits, data = decode_status_list(payload.get("status_list"), max_bytes=max_list_bytes)
    except ValueError as exc:  # JoseError (bad base64url) is a ValueError too
        raise StatusTokenInvalid(f"status list unreadable: {exc}") from exc
    return StatusListToken(uri=uri, issuer=issuer, bits=bits, data=data, iat=iat, exp=exp, ttl=ttl)
