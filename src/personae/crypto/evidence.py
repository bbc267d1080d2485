"""Identity evidence from trusted issuers: a JWS from an issuer on the configured trust list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from personae.crypto.jose import JoseError, PublicKey, load_public_jwk, split_compact, verify_raw
from personae.errors import CatalogError, EvidenceRejected

MAX_TOKEN_BYTES = 8 * 1024
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose signed statements establish identity (IAL2) and some attributes."""

    issuer: str
    keys: dict[str, PublicKey]  # by kid
    claims: dict[str, str]  # issuer claim name -> catalog attribute name


@dataclass(frozen=True)
class VerifiedEvidence:
    issuer: str
    subject: str
    attributes: dict[str, Any]


class TrustList:
    """The issuers this deployment trusts, loaded from a JSON file (may be empty)."""

    def __init__(self, issuers: list[TrustedIssuer]) -> None:
        self._by_iss = {i.issuer: i for i in issuers}

    @classmethod
    def load(cls, path: Path | None) -> TrustList:
        if path is None:
            return cls([])
        try:
            doc = orjson.loads(path.read_bytes())
            issuers = []
            for entry in doc["issuers"]:
                keys = {}
                for jwk in entry["jwks"]["keys"]:
                    keys[str(jwk["kid"])] = load_public_jwk(
                        {k: v for k, v in jwk.items() if k != "kid"}
                    )
                issuers.append(
                    TrustedIssuer(str(entry["issuer"]), keys, dict(entry.get("claims", {})))
                )
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, JoseError) as exc:
            raise CatalogError(f"trust list {path} is invalid: {exc}") from exc
        return cls(issuers)

    def verify(self, token: str, now: int) -> VerifiedEvidence:
        """Check a compact JWS from a trusted issuer; EvidenceRejected with a safe reason."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
            raise EvidenceRejected("evidence token is missing or too large")
        try:
            header, payload, signing_input, signature = split_compact(token)
        except JoseError:
            raise EvidenceRejected("evidence token is not a well-formed JWS") from None
        issuer = self._by_iss.get(str(payload.get("iss")))
        if issuer is None:
            raise EvidenceRejected("evidence issuer is not on the trust list")
        key = issuer.keys.get(str(header.get("kid")))
        if key is None:
            raise EvidenceRejected("evidence is signed with a key the issuer has not published")
        try:
            verify_raw(key, str(header.get("alg")), signing_input, signature)
        except JoseError:
            raise EvidenceRejected("evidence signature does not verify") from None
        exp, iat = payload.get("exp"), payload.get("iat")
        if not isinstance(exp, int) or exp + CLOCK_SKEW_SECONDS < now:
            raise EvidenceRejected("evidence token has expired")
        if isinstance(iat, int) and iat - CLOCK_SKEW_SECONDS > now:
            raise EvidenceRejected("evidence token is issued in the future")
        subject = payload.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 256:
            raise EvidenceRejected("evidence token names no subject")
        attributes = {
            attr: payload[claim] for claim, attr in issuer.claims.items() if claim in payload
        }
        return VerifiedEvidence(issuer.issuer, subject, attributes)
