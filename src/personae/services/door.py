"""The online door check: single-use nonces, and verifying presentations for worlds."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from personae.config import Settings
from personae.crypto import tokens
from personae.crypto.jose import JoseError, b64url_decode
from personae.errors import PresentationRejected
from personae.services.auth import WorldPrincipal
from personae.services.context import ServiceContext
from personae.services.passes import PassService
from personae.store.door_path import NOT_USED, DoorPath, NonceUse, PassLookup
from personae.verify import (
    DoorCheck,
    PassRejected,
    StaticIssuerKeys,
    StaticStatusLists,
    VerifiedPass,
)

log = logging.getLogger("personae.passes")

#: How many worlds' doors one process keeps, and how many passes each remembers: at
#: about 11 KB a pass with 10 disclosures (measured), at most about 370 MB in all.
DOOR_CACHE_SIZE = 64
PASSES_PER_DOOR = 512
MAX_NONCE_LENGTH = 128
MAX_HEADER_LENGTH = 1024
_KNOWN_HEADERS = 16


@dataclass(frozen=True)
class DoorNonce:
    nonce: str
    expires_at: datetime


@dataclass(frozen=True)
class DoorAdmission:
    persona_id: str
    claims: dict[str, Any]
    expires_at: int


@dataclass(frozen=True)
class DoorAttempt:
    """A presentation checked in memory, waiting for its nonce to be used and its
    standing (status, world, sanctions) read in one statement."""

    world_id: str
    nonce_hash: bytes | None
    """None for a nonce too long to be one of ours: it is used by no statement."""
    now: datetime
    """When the presentation was verified (the nonce is used at the time it is)."""
    verified: VerifiedPass | None
    lookup: PassLookup | None
    reason: str | None
    """Why the presentation itself failed, for the log; None if it passed."""
    failure: Exception | None = None
    """An unexpected error while verifying (a defect), raised once the nonce is used."""


# The online door reads statuses in the statement that uses the nonce (see
# DoorPath), never through its DoorCheck: one that asks anyway finds no list (and
# refuses, "status_unavailable").
_NO_STATUS_LISTS = StaticStatusLists({})


class DoorService:
    """Nonces and online door checks, one ``DoorCheck`` per world kept across requests.

    A check is two steps: :meth:`attempt` verifies the presentation in memory
    (keeping each world's door lets it reuse what it learned from passes it has
    verified before, see ``DoorCheck``), then :meth:`settle` uses the nonce and
    reads the pass's status and its persona's standing in one database
    statement, so statuses are read live, never cached, and a nonce serves one
    attempt whatever its outcome.
    """

    def __init__(
        self, ctx: ServiceContext, settings: Settings, passes: PassService, path: DoorPath
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.passes = passes
        self.path = path
        self._doors: dict[str, tuple[StaticIssuerKeys, DoorCheck]] = {}
        # Issuer JWT headers seen naming a key of this key set.
        self._known_headers: tuple[StaticIssuerKeys | None, set[str]] = (None, set())
        self._lock = threading.Lock()

    def new_nonce(self, world: WorldPrincipal) -> DoorNonce:
        """A single-use nonce for one door check, stored only as a hash."""
        now = self.ctx.clock.now()
        nonce = secrets.token_urlsafe(24)
        expires = now + timedelta(seconds=self.settings.door_nonce_ttl_seconds)
        with self.ctx.uow() as uow:
            uow.door_nonces.purge_expired(world.world_id, now)
            uow.door_nonces.add(tokens.token_hash(nonce), world.world_id, expires)
        return DoorNonce(nonce, expires)

    def _door(self, world_id: str, keys: StaticIssuerKeys) -> DoorCheck:
        """This world's door, made again when the issuer's keys change."""
        found = self._doors.get(world_id)
        if found is not None and found[0] is keys:
            return found[1]
        door = DoorCheck(
            keys,
            world_id,
            _NO_STATUS_LISTS,
            vcts={self.passes.vct_for(world_id)},
            remember=PASSES_PER_DOOR,
        )
        with self._lock:
            if len(self._doors) >= DOOR_CACHE_SIZE:
                self._doors.pop(next(iter(self._doors)), None)
            self._doors[world_id] = (keys, door)
        return door

    def door_check(self, world: WorldPrincipal, presentation: str, nonce: str) -> DoorAdmission:
        """Verify a presentation made to this world with a nonce it was given, once.

        Every failure is the same opaque PresentationRejected; the reason code goes
        to the server log only.
        """
        keys = self.passes.trusted_keys()
        if not self._knows_signer(keys, presentation):
            # A key rotated by another process a moment ago: look again (at most every
            # few seconds, however many unknown key ids arrive).
            keys = self.passes.refreshed_keys() or keys
        return self.settle(self._attempt(world, keys, presentation, nonce))

    def attempt(self, world: WorldPrincipal, presentation: str, nonce: str) -> DoorAttempt | None:
        """The in-memory half of :meth:`door_check`, for the event loop: None, having done
        nothing, if the issuer's keys must be looked up first (then use door_check)."""
        keys = self.passes.trusted_keys_now()
        if keys is None:
            return None
        if not self._knows_signer(keys, presentation) and self.passes.may_refresh_keys():
            return None  # the thread pool looks the keys up again
        return self._attempt(world, keys, presentation, nonce)

    def _knows_signer(self, keys: StaticIssuerKeys, presentation: str) -> bool:
        """Whether ``keys`` hold the key the issuer JWT's header names (or it names none
        that can be read); headers of passes that verified under ``keys`` are not read
        again."""
        header = _issuer_header(presentation)
        known_headers = self._known_headers
        if known_headers[0] is keys and header in known_headers[1]:
            return True
        kid = _issuer_kid(header)
        if kid is None:
            return True  # nothing to look up: the check refuses it
        return keys.key_for(self.passes.issuer, kid, 0.0) is not None

    def _remember_header(self, keys: StaticIssuerKeys, presentation: str) -> None:
        """Note the issuer JWT header of a presentation that verified under ``keys``: only
        such headers, and a few (anyone can vary a header's bytes: new ones push out old)."""
        header = _issuer_header(presentation)
        known_headers = self._known_headers
        if known_headers[0] is keys and header in known_headers[1]:
            return
        if known_headers[0] is not keys or len(known_headers[1]) >= _KNOWN_HEADERS:
            known_headers = self._known_headers = (keys, set())
        known_headers[1].add(header)

    def _attempt(
        self, world: WorldPrincipal, keys: StaticIssuerKeys, presentation: str, nonce: str
    ) -> DoorAttempt:
        world_id, now = world.world_id, self.ctx.clock.now()
        if len(nonce) > MAX_NONCE_LENGTH:  # not one of ours: no statement, no verification
            return DoorAttempt(world_id, None, now, None, None, "unknown_nonce")
        nonce_hash = tokens.token_hash(nonce)
        door = self._door(world_id, keys)
        try:
            verified, status = door.verify_except_status(presentation, nonce, now)
        except PassRejected as exc:
            return DoorAttempt(world_id, nonce_hash, now, None, None, exc.reason)
        except Exception as exc:  # a defect: the nonce is still used, then it surfaces
            return DoorAttempt(world_id, nonce_hash, now, None, None, "error", exc)
        list_id = self.passes.status_list_id(status.issuer, status.uri)
        if list_id is None:
            return DoorAttempt(world_id, nonce_hash, now, None, None, "status_unavailable")
        lookup = PassLookup(list_id, status.idx, verified.persona_id)
        self._remember_header(keys, presentation)
        return DoorAttempt(world_id, nonce_hash, now, verified, lookup, None)

    @property
    def settles_now(self) -> bool:
        """Whether :meth:`settle_now` can ever succeed (SQLite; PostgreSQL always waits)."""
        return self.path.settles_now

    def settle(self, attempt: DoorAttempt) -> DoorAdmission:
        """Use the attempt's nonce and decide; waits for the database as long as it takes."""
        if attempt.nonce_hash is None:
            return self._decide(attempt, NOT_USED)
        # The nonce's life and the sanctions are judged when the nonce is used.
        now = self.ctx.clock.now()
        use = self.path.use_nonce(attempt.nonce_hash, attempt.world_id, now, attempt.lookup)
        return self._decide(attempt, use)

    def settle_now(self, attempt: DoorAttempt) -> DoorAdmission | None:
        """:meth:`settle` if the database can be had at once (SQLite, no writer busy);
        None, having changed nothing, if not."""
        if attempt.nonce_hash is None:
            return self._decide(attempt, NOT_USED)
        now = self.ctx.clock.now()
        use = self.path.use_nonce_now(attempt.nonce_hash, attempt.world_id, now, attempt.lookup)
        return None if use is None else self._decide(attempt, use)

    def _decide(self, attempt: DoorAttempt, use: NonceUse) -> DoorAdmission:
        if attempt.failure is not None:
            log.error(
                "door check failed for world %s: %s",
                attempt.world_id,
                type(attempt.failure).__name__,  # the message may carry the presentation
            )
            raise attempt.failure
        verified = attempt.verified
        if not use.used:
            reason = "unknown_nonce"
        elif attempt.reason is not None or verified is None:
            reason = attempt.reason or "malformed"
        elif use.status is None:
            reason = "status_unavailable"
        elif use.status != 0:
            reason = "revoked"
        elif use.world_id != attempt.world_id:
            # A pass is for one world: another world's pass, even bound to this
            # audience by its holder, does not open this door.
            reason = "wrong_world"
        elif use.blocked:
            reason = "sanctioned"
        else:
            return DoorAdmission(verified.persona_id, dict(verified.claims), int(verified.exp))
        log.info("door check refused for world %s: %s", attempt.world_id, reason)
        raise PresentationRejected("presentation rejected")


def _issuer_header(presentation: str) -> str:
    """The issuer JWT's header, still encoded ("" if there is none)."""
    end = presentation.find(".")
    return presentation[:end] if end > 0 else ""


def _issuer_kid(header: str) -> str | None:
    """The ``kid`` in an issuer JWT's header, unverified (to know whether to look the
    issuer's keys up again before checking); None if there is none to read."""
    if not 0 < len(header) <= MAX_HEADER_LENGTH:
        return None
    try:
        kid = orjson.loads(b64url_decode(header)).get("kid")
    except (JoseError, ValueError, AttributeError):
        return None
    return kid if isinstance(kid, str) else None
