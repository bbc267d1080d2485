"""Opaque bearer tokens (sessions, world API keys) and their stored hashes."""

from __future__ import annotations

import hashlib
import secrets

# Prefixes tell a reader (and a secret scanner) what a leaked token is for.
PERSON_SESSION = "pst_"
STAFF_SESSION = "sst_"
WORLD_KEY = "pwk_"


def new_token(prefix: str) -> str:
    """``prefix`` followed by 256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """What the store keeps of a token: SHA-256 suffices, the token has 256 bits of entropy."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_id(prefix: str = "") -> str:
    """A random public identifier (128 bits, hex)."""
    return prefix + secrets.token_hex(16)
