"""Rebuilding the disclosed claims of an SD-JWT from its payload and disclosures (RFC 9901 §7.1)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from personae.verify._codec import MAX_DEPTH, b64_json, malformed, sha256_b64
from personae.verify._errors import PassRejected

#: Top-level claims that SD-JWT VC forbids disclosing selectively (and ``_sd_alg``).
NEVER_DISCLOSED = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "_sd_alg"}
)
_RESERVED_NAMES = frozenset({"_sd", "..."})


Decoded = tuple[str, Any]
"""An encoded disclosure's digest and its JSON content (shape not yet checked)."""


class _Unpacker:
    """One walk over the payload, replacing digests by the disclosures presented for them."""

    __slots__ = ("by_digest", "known", "learned", "seen", "used")

    def __init__(self, by_digest: dict[str, bytes], known: Mapping[bytes, Decoded]) -> None:
        self.by_digest = by_digest
        self.known = known
        self.learned: dict[bytes, Decoded] = {}
        self.seen: set[str] = set()
        self.used = 0

    def _record(self, digests: list[Any]) -> None:
        """Note a list of digests as seen; refuse any that occurs twice in the whole payload."""
        try:
            "".join(digests)  # the cheapest way to insist that every digest is a string
        except TypeError:
            raise malformed() from None
        fresh = set(digests)
        if len(fresh) != len(digests) or not self.seen.isdisjoint(fresh):
            raise PassRejected("duplicate_digest")
        self.seen |= fresh

    def _decode(self, digest: str, encoded: bytes, size: int) -> list[Any]:
        known = self.known.get(encoded)
        if known is None:
            decoded = b64_json(encoded)
            self.learned[encoded] = (digest, decoded)
        else:
            decoded = known[1]
        if type(decoded) is not list or len(decoded) != size or type(decoded[0]) is not str:
            raise PassRejected("bad_disclosure")
        self.used += 1
        return decoded

    def value(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if kind is dict:
            return self.object(value, depth, ())
        if kind is list:
            return self.array(value, depth)
        return value

    def object(self, obj: dict[str, Any], depth: int, skip: Collection[str]) -> dict[str, Any]:
        """``obj`` with its ``_sd`` digests replaced by disclosed claims; ``skip`` keys dropped."""
        if depth > MAX_DEPTH:
            raise malformed()
        out: dict[str, Any] = {}
        digests: Any = None
        for name, item in obj.items():
            if name == "_sd":
                digests = item
            elif name not in skip:
                kind = type(item)
                out[name] = self.value(item, depth + 1) if kind is dict or kind is list else item
        if digests is None:
            return out
        if type(digests) is not list:
            raise malformed()
        self._record(digests)
        # One lookup per digest of this object: work in proportion to the payload plus
        # the disclosures, however many objects carry ``_sd`` and disclosures are sent.
        by_digest = self.by_digest
        for digest in digests:
            encoded = by_digest.get(digest)
            if encoded is None:
                continue  # decoys and undisclosed claims have no disclosure here
            _, name, item = self._decode(digest, encoded, 3)
            if type(name) is not str or name in _RESERVED_NAMES or name in obj or name in out:
                raise PassRejected("bad_disclosure")
            if skip and name in NEVER_DISCLOSED:
                raise PassRejected("bad_disclosure")
            kind = type(item)
            out[name] = self.value(item, depth + 1) if kind is dict or kind is list else item
        return out

    def array(self, arr: list[Any], depth: int) -> list[Any]:
        """``arr`` with ``{"...": digest}`` elements replaced, or dropped when not disclosed."""
        if depth > MAX_DEPTH:
            raise malformed()
        out: list[Any] = []
        for element in arr:
            if type(element) is dict and "..." in element:
                if len(element) != 1:
                    raise malformed()
                digest = element["..."]
                if type(digest) is not str:
                    raise malformed()
                self._record([digest])
                encoded = self.by_digest.get(digest)
                if encoded is not None:
                    out.append(self.value(self._decode(digest, encoded, 2)[1], depth + 1))
            else:
                out.append(self.value(element, depth + 1))
        return out


def unpack(
    payload: dict[str, Any],
    disclosures: list[bytes],
    registered: Collection[str],
    known: Mapping[bytes, Decoded],
) -> tuple[dict[str, Any], dict[bytes, Decoded]]:
    """The claims of ``payload`` with every presented disclosure substituted.

    ``_sd`` and the ``registered`` top-level claims (read by the caller as
    issued, never from disclosures) are left out. Refuses a disclosure sent
    twice, a digest occurring twice, a disclosure whose shape does not fit
    where its digest sits or that would hide or overwrite a claim, and a
    disclosure whose digest the payload never holds.

    ``known`` holds disclosures decoded before (a pure function of their
    bytes); the second result holds the ones decoded by this call.
    """
    by_digest: dict[str, bytes] = {}
    for encoded in disclosures:
        if not encoded:
            raise malformed()
        seen_before = known.get(encoded)
        by_digest[sha256_b64(encoded) if seen_before is None else seen_before[0]] = encoded
    if len(by_digest) != len(disclosures):
        raise PassRejected("duplicate_disclosure")
    unpacker = _Unpacker(by_digest, known)
    claims = unpacker.object(payload, 1, registered)
    if unpacker.used != len(by_digest):
        for encoded in disclosures:
            b64_json(encoded)  # garbage is "malformed" rather than merely unknown
        raise PassRejected("digest_not_found")
    return claims, unpacker.learned
