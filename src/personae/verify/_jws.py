"""Compact JWS pieces the door check needs: splitting, holder keys from ``cnf``, signatures."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from personae.crypto.jose import PublicKey, ed25519_public_key
from personae.verify._codec import b64d, malformed

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_P256 = ec.SECP256R1()
_EC = ec.EllipticCurvePublicKey
_ED = ed25519.Ed25519PublicKey


def split_jws(token: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(header, payload, signature, signing input) of a compact JWS, still encoded."""
    parts = token.split(b".")
    if len(parts) != 3:
        raise malformed()
    header, payload, signature = parts
    return header, payload, signature, token[: len(header) + len(payload) + 1]


HolderJwk = tuple[str, str, str, str]
"""(kty, crv, x, y) of a holder's public JWK; ``y`` is empty for OKP keys."""


def holder_jwk(cnf: Any) -> HolderJwk:
    """The identifying members of ``cnf.jwk``, type-checked; refuses private keys."""
    jwk = cnf.get("jwk") if type(cnf) is dict else None
    if type(jwk) is not dict or "d" in jwk:
        raise malformed()
    kty, crv, x, y = jwk.get("kty"), jwk.get("crv"), jwk.get("x"), jwk.get("y", "")
    if type(kty) is not str or type(crv) is not str or type(x) is not str or type(y) is not str:
        raise malformed()
    return kty, crv, x, y


def load_holder_key(jwk: HolderJwk) -> tuple[PublicKey, str]:
    """The public key of a holder JWK and the one algorithm its KB-JWT may use."""
    kty, crv, x, y = jwk
    try:
        if kty == "EC" and crv == "P-256" and len(x) == 43 and len(y) == 43:
            point = b"\x04" + b64d(x.encode("ascii")) + b64d(y.encode("ascii"))
            return _EC.from_encoded_point(_P256, point), "ES256"
        if kty == "OKP" and crv == "Ed25519" and len(x) == 43 and not y:
            return ed25519_public_key(b64d(x.encode("ascii"))), "EdDSA"
    except (ValueError, UnicodeEncodeError):  # not on the curve, or not ASCII
        raise malformed() from None
    raise malformed()


def prepare_signature(alg: str, encoded: bytes) -> bytes | None:
    """A JWS signature as ``cryptography`` verifies it (DER for ES256); None if the wrong size."""
    raw = b64d(encoded)
    if alg != "ES256":
        return raw
    if len(raw) != 64:
        return None
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def signature_ok(key: PublicKey, alg: str, signing_input: bytes, signature: bytes | None) -> bool:
    """Verify a prepared signature; ``alg`` is the one pinned to ``key`` when it was loaded."""
    if signature is None:
        return False
    try:
        if alg == "ES256" and isinstance(key, _EC):
            key.verify(signature, signing_input, _ECDSA_SHA256)
        elif alg == "EdDSA" and isinstance(key, _ED):
            key.verify(signature, signing_input)
        else:
            return False
    except InvalidSignature:
        return False
    return True
