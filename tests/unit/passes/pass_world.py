"""A world for pass tests: issuer, holder, status list and door, with tampering helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from personae.crypto.jose import (
    PrivateKey,
    b64url_decode,
    b64url_encode,
    public_jwk,
    sign_compact,
    sign_raw,
)
from personae.crypto.sdjwt import IssuedPass, disclosure_digest, issue_pass
from personae.crypto.statuslist import new_status_list
from personae.verify import (
    DoorCheck,
    PassRejected,
    StaticIssuerKeys,
    StaticStatusLists,
    VerifiedPass,
    bind_presentation,
    present,
)

ISSUER = "https://registry.example"
VCT = f"{ISSUER}/vct/world-pass"
STATUS_URI = f"{ISSUER}/status/7"
AUDIENCE = "https://world.example"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_760_000_000
CLAIMS: dict[str, Any] = {
    "age_over_18": True,
    "age_band": "25-34",
    "country": "NL",
    "languages": ["nl", "en"],
    "standing": {"level": "good", "since": 2021},
}
DISCLOSE = ("age_over_18", "country")


def new_key(alg: str) -> PrivateKey:
    """A fresh private key for ``alg`` (ES256 on P-256, or EdDSA on Ed25519)."""
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


@dataclass
class World:
    """One issuer, one holder, one status list and one world's door."""

    ISSUER: ClassVar[str] = ISSUER
    VCT: ClassVar[str] = VCT
    STATUS_URI: ClassVar[str] = STATUS_URI
    AUDIENCE: ClassVar[str] = AUDIENCE
    NONCE: ClassVar[str] = NONCE
    NOW: ClassVar[int] = NOW
    CLAIMS: ClassVar[dict[str, Any]] = CLAIMS
    DISCLOSE: ClassVar[tuple[str, ...]] = DISCLOSE

    issuer_key: PrivateKey
    holder_key: PrivateKey
    status: bytearray = field(default_factory=lambda: new_status_list(1024))
    door: DoorCheck = field(init=False)

    def __post_init__(self) -> None:
        self.door = self.make_door()

    def make_door(self, **options: Any) -> DoorCheck:
        """A door trusting this issuer's ``k1`` and reading this status list."""
        return DoorCheck(
            StaticIssuerKeys(ISSUER, {"k1": self.issuer_key.public_key()}),
            AUDIENCE,
            StaticStatusLists({STATUS_URI: self.status}),
            **options,
        )

    def issue(
        self,
        *,
        claims: Mapping[str, Any] = CLAIMS,
        issued_at: int = NOW - 60,
        expires_at: int = NOW + 3600,
        status_idx: int = 7,
        kid: str = "k1",
        decoys: int = 3,
        signing_key: PrivateKey | None = None,
    ) -> IssuedPass:
        """A pass for persona ``PERSONA7`` bound to the holder key."""
        return issue_pass(
            signing_key or self.issuer_key,
            kid,
            issuer=ISSUER,
            vct=VCT,
            subject="PERSONA7",
            issued_at=issued_at,
            expires_at=expires_at,
            holder_jwk=public_jwk(self.holder_key),
            status_uri=STATUS_URI,
            status_idx=status_idx,
            claims=claims,
            decoys=decoys,
        )

    def present(
        self,
        sd_jwt: str | None = None,
        *,
        disclose: Iterable[str] = DISCLOSE,
        audience: str = AUDIENCE,
        nonce: str = NONCE,
        issued_at: int = NOW,
        holder_key: PrivateKey | None = None,
    ) -> str:
        """A presentation of ``sd_jwt`` (a fresh pass by default) for this world's door."""
        return present(
            sd_jwt if sd_jwt is not None else self.issue().sd_jwt,
            holder_key or self.holder_key,
            disclose=tuple(disclose),
            audience=audience,
            nonce=nonce,
            issued_at=issued_at,
        )

    def verify(self, presentation: str, *, nonce: str = NONCE, now: int = NOW) -> VerifiedPass:
        """The door check, as a world runs it."""
        return self.door.verify(presentation, nonce, now)

    @staticmethod
    def jws_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Header and payload of a compact JWS, unverified (to build tampered tokens)."""
        header, payload, _ = token.split(".")
        return orjson.loads(b64url_decode(header)), orjson.loads(b64url_decode(payload))

    @staticmethod
    def sign(key: PrivateKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
        """A compact JWS over ``payload`` with ``header``; ``alg`` is set from ``key``."""
        return sign_compact(key, {k: v for k, v in header.items() if k != "alg"}, payload)

    @staticmethod
    def segment(raw: bytes) -> str:
        """base64url of ``raw``, to hand-build JOSE segments."""
        return b64url_encode(raw)

    def bind(self, sd_jwt: str) -> str:
        """``sd_jwt`` (``<jwt>~<d>~...~``) with a KB-JWT from the holder, for this door."""
        return bind_presentation(
            sd_jwt, self.holder_key, audience=AUDIENCE, nonce=NONCE, issued_at=NOW
        )

    def raw_jws(self, header: bytes, payload: bytes) -> str:
        """A JWS over exactly these header and payload bytes, signed by the issuer."""
        signing_input = b64url_encode(header) + "." + b64url_encode(payload)
        signature = sign_raw(self.issuer_key, signing_input.encode("ascii"))
        return signing_input + "." + b64url_encode(signature)

    def rejects(
        self, presentation: str, reason: str, *, nonce: str = NONCE, now: int = NOW
    ) -> None:
        """Assert the door refuses ``presentation`` for exactly ``reason``."""
        with pytest.raises(PassRejected) as caught:
            self.door.verify(presentation, nonce, now)
        assert caught.value.reason == reason, caught.value.reason
        assert str(caught.value) == "pass rejected"


def nested(depth: int) -> Any:
    """A JSON value nested ``depth`` levels deep: [[...[1]...]]."""
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return value


def disclosure(*content: Any) -> tuple[str, str]:
    """An encoded disclosure of ``[salt, name, value]`` or ``[salt, value]``, and its digest."""
    encoded = b64url_encode(orjson.dumps(list(content)))
    return encoded, disclosure_digest(encoded)


def handmade_pass(
    world: World,
    structure: dict[str, Any],
    disclosures: Iterable[str],
    *,
    header: dict[str, Any] | None = None,
    **registered: Any,
) -> str:
    """An SD-JWT signed by the world's issuer with any payload ``structure`` (``<jwt>~<d>~...~``).

    The registered claims of a pass are filled in (and may be overridden by
    ``registered``; a value of None removes a claim).
    """
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "vct": VCT,
        "sub": "PERSONA7",
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "cnf": {"jwk": public_jwk(world.holder_key)},
        "status": {"status_list": {"idx": 7, "uri": STATUS_URI}},
        "_sd_alg": "sha-256",
    }
    payload.update(registered)
    payload.update(structure)
    payload = {k: v for k, v in payload.items() if v is not None}
    jwt = World.sign(world.issuer_key, header or {"typ": "dc+sd-jwt", "kid": "k1"}, payload)
    return "~".join((jwt, *disclosures, ""))
