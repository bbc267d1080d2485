"""Where a door check gets trusted issuer keys and status lists: protocols and static providers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from personae.crypto.jose import PublicKey, alg_for, load_public_jwk
from personae.crypto.statuslist import ALLOWED_BITS, status_at


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """A trusted issuer's public key, parsed once, with the one algorithm it may sign with."""

    issuer: str
    kid: str
    key: PublicKey
    alg: str

    @classmethod
    def from_key(cls, issuer: str, kid: str, key: PublicKey | Mapping[str, Any]) -> IssuerKey:
        """From a public key object or a public JWK (ES256 on P-256, or EdDSA on Ed25519)."""
        public = key if not isinstance(key, Mapping) else load_public_jwk(dict(key))
        return cls(issuer=issuer, kid=kid, key=public, alg=alg_for(public))


class IssuerKeys(Protocol):
    """Trusted issuers and their signing keys."""

    def trusts(self, issuer: str) -> bool:
        """Whether passes from ``issuer`` are accepted at all."""
        ...

    def key_for(self, issuer: str, kid: str, now: float) -> IssuerKey | None:
        """The key ``kid`` of ``issuer`` valid at ``now``, or None if there is none."""
        ...


class StatusLists(Protocol):
    """Status lookups for passes (draft-ietf-oauth-status-list)."""

    def status(self, issuer: str, uri: str, idx: int, now: float) -> int | None:
        """Status ``idx`` of the list at ``uri`` (0 valid), or None when it cannot be had."""
        ...


class StaticIssuerKeys:
    """A fixed set of issuer keys, e.g. pinned in a world's configuration or in tests."""

    def __init__(self, issuer: str, keys: Mapping[str, PublicKey | Mapping[str, Any]]) -> None:
        """``keys`` maps each ``kid`` to a public key or public JWK of ``issuer``."""
        self._issuer = issuer
        self._keys = {kid: IssuerKey.from_key(issuer, kid, key) for kid, key in keys.items()}

    def trusts(self, issuer: str) -> bool:
        """True only for the configured issuer."""
        return issuer == self._issuer

    def key_for(self, issuer: str, kid: str, now: float) -> IssuerKey | None:
        """The configured key, whatever the time."""
        if issuer != self._issuer:
            return None
        return self._keys.get(kid)


class StaticStatusLists:
    """Status lists held in memory: URI to byte array, read live (mutations show at once)."""

    def __init__(self, lists: Mapping[str, bytes | bytearray], *, bits: int = 1) -> None:
        """``lists`` maps each status list URI to its uncompressed ``bits``-bit byte array."""
        if bits not in ALLOWED_BITS:
            raise ValueError("bits must be 1, 2, 4 or 8")
        self._lists = lists
        self._bits = bits

    def status(self, issuer: str, uri: str, idx: int, now: float) -> int | None:
        """The status at ``idx``, or None for an unknown list or an index past its end."""
        data = self._lists.get(uri)
        if data is None:
            return None
        return status_at(data, idx, self._bits)
