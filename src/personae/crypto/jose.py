"""Minimal JOSE: base64url, JWKs and compact JWS with an algorithm allow-list (ES256, EdDSA).

Hand-written on purpose: the door check (personae.verify) depends on it and must
import nothing but ``cryptography``, orjson and the standard library. It knows
exactly two algorithms and refuses everything else (``none``, HMAC, RSA).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ALLOWED_ALGS = frozenset({"ES256", "EdDSA"})

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class JoseError(ValueError):
    """A JOSE object that is malformed, uses a refused algorithm, or does not verify."""


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as JOSE wants it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url: refuses padding, whitespace and foreign characters."""
    if not isinstance(text, str) or "=" in text:
        raise JoseError("malformed base64url")
    try:
        raw = text.encode("ascii")
        out = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise JoseError("malformed base64url") from exc
    if b64url_encode(out) != text:  # non-canonical trailing bits or stray characters
        raise JoseError("malformed base64url")
    return out


def alg_for(key: PrivateKey | PublicKey) -> str:
    """The JWS algorithm a key signs with."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise JoseError("only P-256 EC keys are supported")
        return "ES256"
    return "EdDSA"


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The public JWK of a key (no ``kid``; add it where the key is published)."""
    pub: PublicKey
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        pub = key.public_key()
    else:
        pub = key
    if isinstance(pub, ec.EllipticCurvePublicKey):
        numbers = pub.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}


_ED25519_P = 2**255 - 19
# The y-coordinates of the Ed25519 points of order 1, 2, 4 and 8: with such a public
# key, one signature verifies on any message (RFC 8032 does not refuse them).
_ED25519_SMALL_ORDER_Y = frozenset(
    {
        0,
        1,
        _ED25519_P - 1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
    }
)


def ed25519_public_key(raw: bytes) -> ed25519.Ed25519PublicKey:
    """An Ed25519 public key from its 32 bytes; refuses a non-canonical encoding and the
    points of small order, for which signatures can be forged without a private key."""
    if len(raw) != 32:
        raise JoseError("bad Ed25519 key length")
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _ED25519_P or y in _ED25519_SMALL_ORDER_Y:
        raise JoseError("Ed25519 key of small order, or not canonically encoded")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def load_public_jwk(jwk: Any) -> PublicKey:
    """A public key from a JWK dict; refuses private members and unsupported key types."""
    if not isinstance(jwk, dict):
        raise JoseError("JWK must be an object")
    if "d" in jwk:
        raise JoseError("JWK must not contain private key material")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "EC" and crv == "P-256":
            x = b64url_decode(jwk["x"])
            y = b64url_decode(jwk["y"])
            if len(x) != 32 or len(y) != 32:
                raise JoseError("bad EC coordinate length")
            return ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            ).public_key()
        if kty == "OKP" and crv == "Ed25519":
            return ed25519_public_key(b64url_decode(jwk["x"]))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, JoseError):
            raise
        raise JoseError("malformed JWK") from exc
    raise JoseError("unsupported JWK key type")


def sign_raw(key: PrivateKey, signing_input: bytes) -> bytes:
    """A JWS signature: raw r‖s for ES256, the 64-byte signature for EdDSA."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(signing_input)


def verify_raw(key: PublicKey, alg: str, signing_input: bytes, signature: bytes) -> None:
    """Check a JWS signature, with the algorithm pinned by the key type; raise JoseError."""
    if alg not in ALLOWED_ALGS or alg != alg_for(key):
        raise JoseError("algorithm not allowed for this key")
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise JoseError("bad signature length")
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, signing_input)
    except InvalidSignature as exc:
        raise JoseError("signature does not verify") from exc


def sign_compact(key: PrivateKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A compact JWS over ``payload``; ``alg`` is set from the key."""
    full_header = {**header, "alg": alg_for(key)}
    signing_input = (
        b64url_encode(orjson.dumps(full_header)) + "." + b64url_encode(orjson.dumps(payload))
    )
    signature = sign_raw(key, signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def split_compact(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Parse a compact JWS without verifying: (header, payload, signing input, signature)."""
    if not isinstance(token, str):
        raise JoseError("JWS must be a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("JWS must have three parts")
    try:
        header = orjson.loads(b64url_decode(parts[0]))
        payload = orjson.loads(b64url_decode(parts[1]))
    except orjson.JSONDecodeError as exc:
        raise JoseError("JWS part is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JoseError("JWS header and payload must be objects")
    return header, payload, (parts[0] + "." + parts[1]).encode("ascii"), b64url_decode(parts[2])


def verify_compact(token: str, key: PublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS with ``key``; returns (header, payload) or raises JoseError."""
    header, payload, signing_input, signature = split_compact(token)
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise JoseError("JWS header has no alg")
    verify_raw(key, alg, signing_input, signature)
    return header, payload
