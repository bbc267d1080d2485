"""The world-side SDK: verify world pass presentations offline at the door, and build them.

Imports only ``cryptography``, orjson, the standard library and
``personae.crypto.jose``/``personae.crypto.statuslist``, so a world can vendor
it without the registry's server stack.

A world creates one :class:`DoorCheck` at start-up and calls
:meth:`DoorCheck.verify` per visitor with a fresh nonce it issued (and accepts
once); every failure is a :class:`PassRejected` whose ``reason`` goes to the
world's log, never to the visitor.
"""

from __future__ import annotations

from personae.verify._door import DoorCheck, StatusRef, VerifiedPass
from personae.verify._errors import REASONS, PassRejected, Reason
from personae.verify._holder import (
    bind_presentation,
    disclosable_claims,
    present,
    select_disclosures,
)
from personae.verify._http import Fetch, HttpIssuerKeys, HttpStatusLists, urllib_fetch
from personae.verify._pass import MAX_PRESENTATION_BYTES
from personae.verify._providers import (
    IssuerKey,
    IssuerKeys,
    StaticIssuerKeys,
    StaticStatusLists,
    StatusLists,
)

__all__ = [
    "MAX_PRESENTATION_BYTES",
    "REASONS",
    "DoorCheck",
    "Fetch",
    "HttpIssuerKeys",
    "HttpStatusLists",
    "IssuerKey",
    "IssuerKeys",
    "PassRejected",
    "Reason",
    "StaticIssuerKeys",
    "StaticStatusLists",
    "StatusLists",
    "StatusRef",
    "VerifiedPass",
    "bind_presentation",
    "disclosable_claims",
    "present",
    "select_disclosures",
    "urllib_fetch",
]
