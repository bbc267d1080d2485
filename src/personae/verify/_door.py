"""The door check: verifying a world pass presentation offline (SD-JWT VC with key binding)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple

from personae.crypto.jose import PublicKey
from personae.verify._codec import b64_json_object, b64d, is_number, malformed, sha256_b64
from personae.verify._disclosures import unpack
from personae.verify._errors import PassRejected
from personae.verify._jws import HolderJwk, holder_jwk, load_holder_key, signature_ok, split_jws
from personae.verify._providers import IssuerKey, IssuerKeys, StatusLists

MAX_PRESENTATION_BYTES: Final = 16 * 1024
SD_JWT_TYP: Final = "dc+sd-jwt"
KB_JWT_TYP: Final = "kb+jwt"
_ALGS: Final = frozenset({"ES256", "EdDSA"})
#: Registered claims that describe the pass rather than the persona: read as issued, not
#: rebuilt from disclosures, and left out of ``VerifiedPass.claims``.
_NOT_FROM_DISCLOSURES: Final = frozenset(
    {"iss", "sub", "vct", "vct#integrity", "iat", "exp", "nbf", "cnf", "status", "_sd_alg"}
)
#: Distinct JWT headers remembered (only ones that passed their checks).
_HEADER_CACHE_SIZE: Final = 64
#: Holder keys remembered, parsed, from passes that passed the door check.
_HOLDER_CACHE_SIZE: Final = 4096


@dataclass(frozen=True, slots=True)
class VerifiedPass:
    """What a world learns from a pass that passed the door check."""

    persona_id: str
    """The persona's pseudonymous id in this world (the pass ``sub``)."""
    claims: dict[str, Any]
    """The disclosed claims (and any plain ones beyond the registered pass claims)."""
    vct: str
    issuer: str
    kid: str
    iat: float | None
    exp: float


def _seconds(now: float | datetime) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        return now.timestamp()
    return float(now)


def _split_presentation(presentation: str) -> tuple[bytes, list[bytes], bytes, bytes]:
    """(issuer JWT, disclosures, the part ``sd_hash`` covers, KB-JWT), all still encoded."""
    if type(presentation) is not str:
        raise malformed()
    if len(presentation) > MAX_PRESENTATION_BYTES:
        raise PassRejected("too_large")
    if not presentation.isascii():
        raise malformed()
    raw = presentation.encode("ascii")
    last = raw.rfind(b"~")
    if last <= 0:
        raise malformed()
    kb_jwt = raw[last + 1 :]
    if not kb_jwt:
        raise PassRejected("kb_missing")
    jwt, *disclosures = raw[:last].split(b"~")
    return jwt, disclosures, raw[: last + 1], kb_jwt


class _IssuerJwt(NamedTuple):
    """The issuer-signed JWT after its cheap checks, awaiting its signature check."""

    signing_input: bytes
    signature: bytes
    key: IssuerKey
    payload: dict[str, Any]
    vct: str
    iat: float | None
    exp: float
    status_uri: str
    status_idx: int
    holder_jwk: HolderJwk


class DoorCheck:
    """Verifies pass presentations for one world (the audience), every check on.

    Checks run cheapest first: size and shape, issuer header, registered claims
    and times, disclosures, key-binding JWT, then the two signatures, and last
    the status list (so no status fetch is ever made for an unsigned pass).
    Replay protection is the caller's: issue a fresh nonce per door and accept
    each nonce once.

    Parsed issuer keys, the few distinct JWT headers and the public keys of
    holders seen in passes that verified are kept, bounded, so that returning
    holders cost two signature checks and little else. Nothing about a
    presentation's validity is cached: every call runs every check.
    """

    def __init__(
        self,
        issuer_keys: IssuerKeys,
        audience: str,
        status_lists: StatusLists,
        *,
        skew_seconds: float = 60.0,
        kb_max_age: float = 300.0,
        vcts: Collection[str] | None = None,
    ) -> None:
        """``audience`` is this world's identifier, as holders put it in the KB-JWT ``aud``.

        ``vcts``, when given, are the only credential types (``vct``) accepted;
        give it whenever the issuer mints per-world types, so that a pass issued
        for another world (another persona) cannot be shown at this door.
        """
        if skew_seconds < 0 or kb_max_age <= 0:
            raise ValueError("skew_seconds must be >= 0 and kb_max_age > 0")
        self._issuer_keys = issuer_keys
        self._audience = audience
        self._status_lists = status_lists
        self._skew = float(skew_seconds)
        self._kb_max_age = float(kb_max_age)
        self._vcts = None if vcts is None else frozenset(vcts)
        self._issuer_headers: dict[bytes, tuple[str, str]] = {}
        self._kb_headers: dict[bytes, str] = {}
        self._holder_keys: dict[HolderJwk, tuple[PublicKey, str]] = {}

    def verify(self, presentation: str, nonce: str, now: float | datetime) -> VerifiedPass:
        """Verify ``presentation`` against the ``nonce`` this door issued; raise PassRejected."""
        t = now if type(now) is int or type(now) is float else _seconds(now)
        jwt, disclosures, sd_jwt, kb_jwt = _split_presentation(presentation)
        issued = self._check_issuer_jwt(jwt, t)
        payload = issued.payload
        claims = unpack(payload, disclosures, _NOT_FROM_DISCLOSURES)
        persona_id = payload.get("sub")
        if persona_id is None:
            persona_id = claims.pop("sub", None)  # SD-JWT VC lets an issuer hide ``sub``
        claims.pop("iat", None)
        if type(persona_id) is not str:
            raise malformed()
        cached_holder = self._holder_keys.get(issued.holder_jwk)
        holder_key, holder_alg = cached_holder or load_holder_key(issued.holder_jwk)
        kb_input, kb_signature = self._check_kb_jwt(kb_jwt, holder_alg, nonce, sd_jwt, t)

        # Signatures, the expensive part.
        key = issued.key
        if not signature_ok(key.key, key.alg, issued.signing_input, b64d(issued.signature)):
            raise PassRejected("bad_signature")
        if not signature_ok(holder_key, holder_alg, kb_input, b64d(kb_signature)):
            raise PassRejected("kb_bad_signature")

        # Status, only for a pass known to be genuine.
        state = self._status_lists.status(key.issuer, issued.status_uri, issued.status_idx, t)
        if state is None:
            raise PassRejected("status_unavailable")
        if state != 0:
            raise PassRejected("revoked")
        if cached_holder is None:
            self._remember_holder(issued.holder_jwk, (holder_key, holder_alg))
        return VerifiedPass(
            persona_id=persona_id,
            claims=claims,
            vct=issued.vct,
            issuer=key.issuer,
            kid=key.kid,
            iat=issued.iat,
            exp=issued.exp,
        )

    def _remember_holder(self, jwk: HolderJwk, key: tuple[PublicKey, str]) -> None:
        cache = self._holder_keys
        if len(cache) >= _HOLDER_CACHE_SIZE:
            del cache[next(iter(cache))]  # the oldest entry
        cache[jwk] = key

    def _issuer_header(self, h64: bytes) -> tuple[str, str]:
        """(alg, kid) of an issuer JWT header; headers are shared by all passes of a key."""
        cached = self._issuer_headers.get(h64)
        if cached is not None:
            return cached
        header = b64_json_object(h64)
        if header.get("typ") != SD_JWT_TYP:
            raise PassRejected("wrong_typ")
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in _ALGS:
            raise PassRejected("alg_not_allowed")
        if "crit" in header or type(kid) is not str:
            raise malformed()
        return alg, kid

    def _check_issuer_jwt(self, jwt: bytes, t: float) -> _IssuerJwt:
        """Header, issuer key, times and registered claims; the signature is checked later."""
        h64, p64, s64 = split_jws(jwt)
        alg, kid = self._issuer_header(h64)
        payload = b64_json_object(p64)
        issuer = payload.get("iss")
        if type(issuer) is not str:
            raise malformed()
        if not self._issuer_keys.trusts(issuer):
            raise PassRejected("unknown_issuer")
        key = self._issuer_keys.key_for(issuer, kid, t)
        if key is None:
            raise PassRejected("unknown_kid")
        if alg != key.alg:
            raise PassRejected("alg_not_allowed")
        if h64 not in self._issuer_headers and len(self._issuer_headers) < _HEADER_CACHE_SIZE:
            self._issuer_headers[h64] = (alg, kid)
        vct, exp, iat, nbf = (
            payload.get("vct"),
            payload.get("exp"),
            payload.get("iat"),
            payload.get("nbf"),
        )
        if type(vct) is not str or not is_number(exp):
            raise malformed()
        if self._vcts is not None and vct not in self._vcts:
            raise PassRejected("wrong_vct")
        skew = self._skew
        if t >= exp + skew:
            raise PassRejected("expired")
        for not_before in (nbf, iat):
            if not_before is not None:
                if not is_number(not_before):
                    raise malformed()
                if not_before > t + skew:
                    raise PassRejected("not_yet_valid")
        if payload.get("_sd_alg", "sha-256") != "sha-256":
            raise PassRejected("bad_sd_alg")
        status = payload.get("status")
        ref = status.get("status_list") if type(status) is dict else None
        if type(ref) is not dict:
            raise malformed()
        status_idx, status_uri = ref.get("idx"), ref.get("uri")
        if type(status_idx) is not int or status_idx < 0 or type(status_uri) is not str:
            raise malformed()
        return _IssuerJwt(
            jwt[: len(h64) + len(p64) + 1],
            s64,
            key,
            payload,
            vct,
            iat,
            exp,
            status_uri,
            status_idx,
            holder_jwk(payload.get("cnf")),
        )

    def _kb_header_alg(self, h64: bytes) -> Any:
        """The ``alg`` of a KB-JWT header; the few distinct headers are parsed once."""
        alg = self._kb_headers.get(h64)
        if alg is not None:
            return alg
        header = b64_json_object(h64)
        if header.get("typ") != KB_JWT_TYP:
            raise PassRejected("kb_wrong_typ")
        if "crit" in header:
            raise malformed()
        alg = header.get("alg")
        if alg in _ALGS and len(self._kb_headers) < _HEADER_CACHE_SIZE:
            self._kb_headers[h64] = alg
        return alg

    def _check_kb_jwt(
        self, kb_jwt: bytes, alg: str, nonce: str, sd_jwt: bytes, t: float
    ) -> tuple[bytes, bytes]:
        """Everything about the key-binding JWT but its signature: (signing input, signature)."""
        h64, p64, s64 = split_jws(kb_jwt)
        if self._kb_header_alg(h64) != alg:
            raise PassRejected("kb_alg_not_allowed")
        kb = b64_json_object(p64)
        if kb.get("aud") != self._audience:
            raise PassRejected("kb_wrong_aud")
        if type(nonce) is not str or not nonce or kb.get("nonce") != nonce:
            raise PassRejected("kb_wrong_nonce")
        iat = kb.get("iat")
        if not is_number(iat):
            raise malformed()
        if not t - self._kb_max_age - self._skew <= iat <= t + self._skew:
            raise PassRejected("kb_stale")
        if kb.get("sd_hash") != sha256_b64(sd_jwt):
            raise PassRejected("kb_sd_hash")
        return kb_jwt[: len(h64) + len(p64) + 1], s64
