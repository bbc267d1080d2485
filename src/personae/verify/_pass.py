"""Taking a presentation apart: its pieces, and the issuer JWT's header and registered claims."""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from personae.verify._codec import b64_json_object, is_number, malformed
from personae.verify._errors import PassRejected
from personae.verify._jws import HolderJwk, holder_jwk, prepare_signature

MAX_PRESENTATION_BYTES: Final = 16 * 1024
SD_JWT_TYP: Final = "dc+sd-jwt"
ALGS: Final = frozenset({"ES256", "EdDSA"})


class ParsedPass(NamedTuple):
    """What the issuer JWT says, type-checked but not yet trusted (signature and times unchecked).

    A pure function of the JWT's bytes, so a door may keep it for passes it sees
    again; the signature, and everything that depends on time, keys or status,
    is checked on every presentation.
    """

    alg: str
    kid: str
    issuer: str
    payload: dict[str, Any]
    vct: str
    iat: float | None
    nbf: float | None
    exp: float
    status_uri: str
    status_idx: int
    holder_jwk: HolderJwk
    signature: bytes | None
    """The issuer's signature, decoded for ``cryptography`` (still to be verified)."""


def split_presentation(presentation: str) -> tuple[bytes, list[bytes], bytes, bytes]:
    """Size, alphabet and shape of ``<jwt>~<disclosure>~...~<kb-jwt>``; its parts, encoded.

    The parts are the issuer JWT, the disclosures, what the KB-JWT's ``sd_hash``
    covers (``<jwt>~<d1>~...~<dn>~``) and the KB-JWT.
    """
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


def _optional_number(value: Any) -> float | None:
    if value is not None and not is_number(value):
        raise malformed()
    return value


def parse_issuer_jwt(header64: bytes, payload64: bytes, signature64: bytes) -> ParsedPass:
    """Header (``typ``, ``alg``, ``kid``), the registered claims a door check needs, signature."""
    header = b64_json_object(header64)
    if header.get("typ") != SD_JWT_TYP:
        raise PassRejected("wrong_typ")
    alg, kid = header.get("alg"), header.get("kid")
    if type(alg) is not str or alg not in ALGS:  # a JSON array or object is unhashable
        raise PassRejected("alg_not_allowed")
    if "crit" in header or type(kid) is not str:
        raise malformed()
    payload = b64_json_object(payload64)
    issuer, vct, exp = payload.get("iss"), payload.get("vct"), payload.get("exp")
    if type(issuer) is not str or type(vct) is not str or not is_number(exp):
        raise malformed()
    if payload.get("_sd_alg", "sha-256") != "sha-256":
        raise PassRejected("bad_sd_alg")
    status = payload.get("status")
    ref = status.get("status_list") if type(status) is dict else None
    if type(ref) is not dict:
        raise malformed()
    status_idx, status_uri = ref.get("idx"), ref.get("uri")
    if type(status_idx) is not int or status_idx < 0 or type(status_uri) is not str:
        raise malformed()
    return ParsedPass(
        alg=alg,
        kid=kid,
        issuer=issuer,
        payload=payload,
        vct=vct,
        iat=_optional_number(payload.get("iat")),
        nbf=_optional_number(payload.get("nbf")),
        exp=exp,
        status_uri=status_uri,
        status_idx=status_idx,
        holder_jwk=holder_jwk(payload.get("cnf")),
        signature=prepare_signature(alg, signature64),
    )
