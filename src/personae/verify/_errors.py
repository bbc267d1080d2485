"""The one exception a door check raises, and its documented reason codes."""

from __future__ import annotations

from typing import Final, Literal, get_args

Reason = Literal[
    "malformed",
    "too_large",
    "wrong_typ",
    "alg_not_allowed",
    "unknown_issuer",
    "unknown_kid",
    "bad_signature",
    "wrong_vct",
    "expired",
    "not_yet_valid",
    "bad_sd_alg",
    "bad_disclosure",
    "duplicate_disclosure",
    "duplicate_digest",
    "digest_not_found",
    "kb_missing",
    "kb_wrong_typ",
    "kb_alg_not_allowed",
    "kb_bad_signature",
    "kb_wrong_aud",
    "kb_wrong_nonce",
    "kb_stale",
    "kb_sd_hash",
    "revoked",
    "status_unavailable",
]
"""Why a presentation was refused. For logs and metrics, never for the presenter.

- ``malformed``: not an SD-JWT presentation; bad base64url or JSON anywhere, a
  duplicate JSON key, nesting deeper than 32 levels, or a required claim missing
  or of the wrong type (``iss``, ``vct``, ``sub``, ``exp``, ``cnf.jwk``, ``status``).
- ``too_large``: the presentation is over 16 KiB.
- ``wrong_typ``: the issuer JWT's ``typ`` is not ``dc+sd-jwt``.
- ``alg_not_allowed``: the issuer JWT's ``alg`` is not the one pinned by the key
  (``none``, HMAC and RSA never are).
- ``unknown_issuer`` / ``unknown_kid``: no trusted issuer or key for ``iss`` / ``kid``.
- ``bad_signature``: the issuer signature does not verify.
- ``wrong_vct``: the pass is of a credential type this door does not accept.
- ``expired`` / ``not_yet_valid``: outside ``exp``, ``nbf`` or ``iat`` (with skew).
- ``bad_sd_alg``: ``_sd_alg`` is not ``sha-256``.
- ``bad_disclosure``: a disclosure of the wrong shape for where its digest sits,
  naming ``_sd``, ``...``, a registered claim or a claim already present.
- ``duplicate_disclosure`` / ``duplicate_digest``: a disclosure sent twice, or a
  digest occurring twice in the payload and disclosures.
- ``digest_not_found``: a disclosure whose digest the issuer never signed.
- ``kb_missing``: no key-binding JWT after the last ``~``.
- ``kb_wrong_typ`` / ``kb_alg_not_allowed`` / ``kb_bad_signature``: the key-binding
  JWT is not ``kb+jwt``, uses an algorithm other than the ``cnf`` key's, or its
  signature does not verify with ``cnf.jwk``.
- ``kb_wrong_aud`` / ``kb_wrong_nonce``: not addressed to this world or this challenge.
- ``kb_stale``: key-binding ``iat`` outside the freshness window.
- ``kb_sd_hash``: ``sd_hash`` does not match the presented SD-JWT (a disclosure
  was added, dropped or changed after the holder signed).
- ``revoked``: the status list marks the pass as anything but valid.
- ``status_unavailable``: the status list could not be obtained or lacks the index.
"""

REASONS: Final[frozenset[str]] = frozenset(get_args(Reason))


class PassRejected(Exception):
    """A presentation failed the door check.

    ``reason`` (and ``repr()``, for the server log) says why; ``str()`` says only
    "pass rejected", so echoing the exception to a presenter teaches them nothing.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: Reason) -> None:
        super().__init__("pass rejected")
        self.reason: Reason = reason

    def __str__(self) -> str:
        return "pass rejected"

    def __repr__(self) -> str:
        return f"PassRejected({self.reason!r})"
