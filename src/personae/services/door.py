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
from personae.store.door_path import DoorPath
from personae.verify import DoorCheck, PassRejected, StaticIssuerKeys

log = logging.getLogger("personae.passes")

#: How many worlds' doors one process keeps, and how many passes each remembers: at
#: about 11 KB a pass with 10 disclosures (measured), at most about 370 MB in all.
DOOR_CACHE_SIZE = 64
PASSES_PER_DOOR = 512
MAX_NONCE_LENGTH = 128
MAX_HEADER_LENGTH = 1024


@dataclass(frozen=True)
class DoorNonce:
    nonce: str
    expires_at: datetime


@dataclass(frozen=True)
class DoorAdmission:
    persona_id: str
    claims: dict[str, Any]
    expires_at: int


class _LiveStatusLists:
    """The SDK's StatusLists answered from the database on every call, so a revocation
    committed a moment ago refuses the next door check."""

    def __init__(self, path: DoorPath, issuer: str) -> None:
        self._path = path
        self._prefix = f"{issuer}/v1/status-lists/"

    def status(self, issuer: str, uri: str, idx: int, now: float) -> int | None:
        if not uri.startswith(self._prefix) or idx < 0:
            return None
        byte = self._path.status_byte(uri[len(self._prefix) :], idx)
        return None if byte is None else (byte >> (idx % 8)) & 1


class DoorService:
    """Nonces and online door checks, one ``DoorCheck`` per world kept across requests.

    Keeping each world's door lets it reuse what it learned from passes it has
    verified before (see ``DoorCheck``); statuses are read live, never cached.
    """

    def __init__(
        self, ctx: ServiceContext, settings: Settings, passes: PassService, path: DoorPath
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.passes = passes
        self.path = path
        self._statuses = _LiveStatusLists(self.path, passes.issuer)
        self._doors: dict[str, tuple[StaticIssuerKeys, DoorCheck]] = {}
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
            self._statuses,
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

        The nonce is consumed, and committed, before anything else is looked at,
        so it never serves a second attempt whatever the outcome. Every failure is
        the same opaque PresentationRejected; the reason code goes to the server
        log only.
        """
        now = self.ctx.clock.now()
        keys = self.passes.trusted_keys()
        if not _knows(keys, self.passes.issuer, _issuer_kid(presentation)):
            # A key rotated by another process a moment ago: look again (at most every
            # few seconds, however many unknown key ids arrive).
            keys = self.passes.refreshed_keys() or keys
        # The nonce first, on a connection of its own: waiting for SQLite's writer lock
        # while holding a pooled connection could starve the lock's holder of one.
        used = len(nonce) <= MAX_NONCE_LENGTH and self.path.consume_nonce(
            tokens.token_hash(nonce), world.world_id, now
        )
        with self.path.connection():
            door = self._door(world.world_id, keys)
            return self._admit(world, door, presentation, nonce, nonce_used=used, now=now)

    def door_check_now(
        self, world: WorldPrincipal, presentation: str, nonce: str
    ) -> DoorAdmission | None:
        """:meth:`door_check` when it can run without waiting on a lock or the network
        (SQLite, no other writer busy, the issuer's keys known), for the event loop;
        None, having done nothing, when it cannot."""
        now = self.ctx.clock.now()
        keys = self.passes.trusted_keys_now()
        if keys is None:
            return None
        if (
            not _knows(keys, self.passes.issuer, _issuer_kid(presentation))
            and self.passes.may_refresh_keys()
        ):
            return None  # the thread pool looks the keys up again
        with self.path.connection(wait=False) as bound:
            if not bound:
                return None
            used = len(nonce) <= MAX_NONCE_LENGTH and self.path.consume_nonce_now(
                tokens.token_hash(nonce), world.world_id, now
            )
            if used is None:
                return None
            door = self._door(world.world_id, keys)
            return self._admit(world, door, presentation, nonce, nonce_used=used, now=now)

    def _admit(
        self,
        world: WorldPrincipal,
        door: DoorCheck,
        presentation: str,
        nonce: str,
        *,
        nonce_used: bool,
        now: datetime,
    ) -> DoorAdmission:
        reason: str | None = None
        verified = None
        if not nonce_used:
            reason = "unknown_nonce"
        else:
            try:
                verified = door.verify(presentation, nonce, now)
            except PassRejected as exc:
                reason = exc.reason
            else:
                admission = self.path.admission(verified.persona_id, now)
                if admission is None or admission.world_id != world.world_id:
                    # A pass is for one world: another world's pass, even bound
                    # to this audience by its holder, does not open this door.
                    reason = "wrong_world"
                elif admission.blocked:
                    reason = "sanctioned"
        if reason is not None or verified is None:
            log.info("door check refused for world %s: %s", world.world_id, reason)
            raise PresentationRejected("presentation rejected")
        return DoorAdmission(verified.persona_id, dict(verified.claims), int(verified.exp))


def _issuer_kid(presentation: str) -> str | None:
    """The ``kid`` in the issuer JWT's header, unverified (to know whether to look the
    issuer's keys up again before checking); None if there is none to read."""
    end = presentation.find(".")
    if not 0 < end <= MAX_HEADER_LENGTH:
        return None
    try:
        kid = orjson.loads(b64url_decode(presentation[:end])).get("kid")
    except (JoseError, ValueError, AttributeError):
        return None
    return kid if isinstance(kid, str) else None


def _knows(keys: StaticIssuerKeys, issuer: str, kid: str | None) -> bool:
    return kid is None or keys.key_for(issuer, kid, 0.0) is not None
