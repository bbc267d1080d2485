"""Erasure (GDPR Art. 17): request, grace and cancel, deferral under a hold, crypto-shredding.

An erasure runs in three steps, each safe to repeat: (1) one transaction deletes
every row about the person and their personas (passes revoked first) and marks
the journal row ``erasing``; (2) the person's and every persona's data key are
destroyed, so any copy of their sealed values, backups included, is unreadable;
(3) the journal row is deleted. A crash between steps leaves the journal row,
and the next run finishes the job; it never leaves a half-erased person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from personae.crypto.vault import person_owner, persona_owner
from personae.domain.events import Event, EventType
from personae.errors import Conflict, NotFound
from personae.services.auth import PersonPrincipal
from personae.services.context import ServiceContext
from personae.services.holds import hold_end_for
from personae.services.notices import post_notice
from personae.services.passes import PassService
from personae.services.production import owned_personas
from personae.store.retention_repo import ErasureRecord
from personae.store.uow import UnitOfWork

log = logging.getLogger("personae.erasure")

PENDING, DEFERRED, ERASING = "pending", "deferred", "erasing"
HOLD_REASON = "records of yours are under a legal hold; they must be kept until it ends"

# Deletes what another feature keeps about erased personas (e.g. the transparency
# log's commitment salts), in the erasure's transaction; returns rows deleted.
PersonaPurge = Callable[[UnitOfWork, Sequence[str]], int]


@dataclass(frozen=True)
class ErasureView:
    status: str
    requested_at: datetime
    due_at: datetime
    deferred_until: datetime | None
    reason: str | None


def running_sanction(
    uow: UnitOfWork, persona_ids: Sequence[str], now: datetime
) -> tuple[bool, datetime | None]:
    """Whether a sanction runs on any of these personas, and until when (None: open-ended)."""
    running = [s for p in persona_ids for s in uow.moderation.sanctions.in_force(p, now)]
    if not running:
        return False, None
    ends = [s.ends_at for s in running]
    return True, None if any(e is None for e in ends) else max(e for e in ends if e is not None)


class ErasureService:
    def __init__(
        self,
        ctx: ServiceContext,
        passes: PassService,
        grace: timedelta,
        purges: Sequence[PersonaPurge] = (),
    ) -> None:
        self.ctx = ctx
        self.passes = passes
        self.grace = grace
        self.purges = tuple(purges)

    def _owners(self, uow: UnitOfWork, person_id: str) -> tuple[list[str], list[str]]:
        personas = [p.id for p in owned_personas(self.ctx, uow, person_id)]
        return personas, [person_owner(person_id), *(persona_owner(p) for p in personas)]

    def _view(self, uow: UnitOfWork, record: ErasureRecord, now: datetime) -> ErasureView:
        _, owners = self._owners(uow, record.person_id)
        held_until = hold_end_for(self.ctx, uow, owners, now)
        later = held_until is not None and held_until > record.due_at
        deferred = held_until if later else record.deferred_until
        return ErasureView(
            DEFERRED if deferred else record.status,
            record.requested_at,
            record.due_at,
            deferred,
            HOLD_REASON if deferred else None,
        )

    def request(self, who: PersonPrincipal) -> ErasureView:
        """Ask to be erased: done after the grace period, or after a hold ends (told so)."""
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            record = uow.erasures.get(who.person_id, lock=True)
            if record is None:
                record = ErasureRecord(who.person_id, now, now + self.grace, PENDING, None)
                uow.erasures.add(record)
                uow.outbox.append(Event(EventType.ERASURE_REQUESTED, now))
            return self._view(uow, record, now)

    def status(self, who: PersonPrincipal) -> ErasureView:
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            record = uow.erasures.get(who.person_id)
            if record is None:
                raise NotFound("no erasure requested")
            return self._view(uow, record, now)

    def cancel(self, who: PersonPrincipal) -> None:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            record = uow.erasures.get(who.person_id, lock=True)
            if record is None:
                raise NotFound("no erasure requested")
            if record.status == ERASING:
                raise Conflict("the erasure is already under way")
            uow.erasures.remove(who.person_id)
            uow.outbox.append(Event(EventType.ERASURE_CANCELLED, now))

    # -- running erasures ------------------------------------------------------

    def run_due(self, limit: int = 100) -> int:
        """Erase every person whose erasure is due (and finish interrupted ones)."""
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            due = uow.erasures.due(now, limit)
        return sum(self.erase(person_id) for person_id in due)

    def erase(self, person_id: str) -> bool:
        """Run (or finish) one erasure; False when it is deferred by a hold or not requested."""
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            record = uow.erasures.get(person_id, lock=True)
            if record is None:
                return False
            if record.status != ERASING and not self._delete_rows(uow, record, now):
                return False
        self._shred(person_id)
        with self.ctx.uow() as uow:
            uow.erasures.remove(person_id)
        log.info("erasure completed")
        return True

    def _delete_rows(self, uow: UnitOfWork, record: ErasureRecord, now: datetime) -> bool:
        person_id = record.person_id
        personas, owners = self._owners(uow, person_id)
        held_until = hold_end_for(self.ctx, uow, owners, now)
        if held_until is not None:
            if record.deferred_until != held_until:
                uow.erasures.set_status(person_id, DEFERRED, held_until, held_until)
                post_notice(
                    self.ctx,
                    uow,
                    person_owner(person_id),
                    "erasure_deferred",
                    {"reason": HOLD_REASON, "until": held_until.isoformat()},
                    now=now,
                )
                uow.outbox.append(
                    Event(EventType.ERASURE_DEFERRED, now, {"days": (held_until - now).days + 1})
                )
            return False
        sanctioned, until = running_sanction(uow, personas, now)
        if sanctioned:
            for evidence_hash in uow.person_data.evidence_hashes(person_id):
                uow.sanction_guards.put(evidence_hash, until)
        for persona_id in personas:
            for issued in uow.passes.for_persona(persona_id):
                self.passes.set_revoked(uow, issued, now, "erasure")
        for purge in self.purges:
            purge(uow, personas)
        uow.person_data.delete_notices(owners)
        uow.person_data.delete_personas(personas)
        uow.person_data.delete_person(person_id)
        uow.erasures.set_status(person_id, ERASING, record.due_at, None)
        uow.outbox.append(
            Event(
                EventType.ERASURE_COMPLETED, now, {"personas": len(personas), "guarded": sanctioned}
            )
        )
        return True

    def _shred(self, person_id: str) -> None:
        """Destroy the person's and every possible persona's data key (idempotent)."""
        with self.ctx.uow(write=False) as uow:
            worlds = uow.worlds.ids()
        for world_id in worlds:
            self.ctx.vault.shred(persona_owner(self.ctx.pseudonyms.persona_id(world_id, person_id)))
        self.ctx.vault.shred(person_owner(person_id))
