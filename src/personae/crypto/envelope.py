"""AEAD sealing: AES-256-GCM with the record's identity bound in as associated data."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from personae.errors import KeystoreError

_VERSION = b"\x01"
_NONCE_BYTES = 12
KEY_BYTES = 32


def new_key() -> bytes:
    """A fresh 256-bit key from the OS random source."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """``version ‖ nonce ‖ ciphertext ‖ tag``; the associated data must match on opening.

    Random 96-bit nonces are safe here: one data key seals a few dozen values in
    its life, far below the 2^32 messages at which random nonces become a risk.
    """
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """The plaintext of ``seal``; KeystoreError if the key, data or context do not match."""
    if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _VERSION:
        raise KeystoreError("sealed value is malformed")
    nonce = sealed[1 : 1 + _NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[1 + _NONCE_BYTES :], associated_data)
    except InvalidTag as exc:
        raise KeystoreError("sealed value does not open with this key and context") from exc
