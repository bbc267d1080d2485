"""Erasure (GDPR Art. 17): request, grace and cancel, deferral under a hold, crypto-shredding.

An erasure runs in three steps, each safe to repeat: (1) one transaction deletes
every row about the person and their personas (passes revoked first) and marks
the journal row ``erasing``; (2) the person's and every persona's data key are
destroyed, so any copy of their sealed values, backups included, is unreadable;
(3) the journal row is deleted. A crash between steps leaves the journal row,
and the next run finishes the job; it never leaves a half-erased person.

A hold on the person defers the whole erasure until it ends. A hold on some of
the person's personas only keeps those personas (row and key): step (1) records
each in ``held_persona_erasures`` instead of deleting it, step (2) spares its key,
and the retention sweep erases it once no active hold covers it
(``erase_released_personas``: rows, then key, then the journal row).
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
from personae.services.holds import HeldSubjects, hold_end_for
from personae.services.notices import post_notice
from personae.services.passes import PassService
from personae.services.personas import owned_personas
from personae.store.retention_repo import ErasureRecord
from personae.store.uow import UnitOfWork

log = logging.getLogger("personae.erasure")

PENDING, DEFERRED, ERASING = "pending", "deferred", "erasing"
HOLD_REASON = "records of yours are under a legal hold; they must be kept until it ends"
KEPT_REASON = (
    "a persona of yours is under a legal hold; everything else is erased when due, "
    "that persona is kept until the hold ends and erased then"
)

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
    kept_until: datetime | None = None


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
        personas, _ = self._owners(uow, record.person_id)
        held_until = hold_end_for(self.ctx, uow, [person_owner(record.person_id)], now)
        later = held_until is not None and held_until > record.due_at
        deferred = held_until if later else record.deferred_until
        if deferred:
            return ErasureView(DEFERRED, record.requested_at, record.due_at, deferred, HOLD_REASON)
        kept = hold_end_for(self.ctx, uow, [persona_owner(p) for p in personas], now)
        return ErasureView(
            record.status,
            record.requested_at,
            record.due_at,
            None,
            KEPT_REASON if kept else None,
            kept,
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
        personas, _ = self._owners(uow, person_id)
        # Personas first, then status lists (revoking), as issuing a pass does: two
        # transactions taking them in opposite orders could deadlock on PostgreSQL.
        uow.personas.lock(personas)
        held_until = hold_end_for(self.ctx, uow, [person_owner(person_id)], now)
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
        held = HeldSubjects(self.ctx, uow.holds.active_subjects(now))
        kept = [p for p in personas if held.covers(persona_owner(p))]
        erased = [p for p in personas if p not in kept]
        self._delete_personas(uow, erased, now)
        uow.person_data.delete_notices([person_owner(person_id)])
        uow.person_data.delete_person(person_id)
        if kept:  # kept, row and key, until no hold covers them (the retention sweep)
            # Kept as records for the hold, not for use: their passes stop opening doors.
            self._revoke_passes(uow, kept, now)
            uow.held_persona_erasures.add(kept, now)
            kept_until = hold_end_for(self.ctx, uow, [persona_owner(p) for p in kept], now)
            if kept_until is not None:
                uow.outbox.append(
                    Event(EventType.ERASURE_DEFERRED, now, {"days": (kept_until - now).days + 1})
                )
        uow.erasures.set_status(person_id, ERASING, record.due_at, None)
        uow.outbox.append(
            Event(
                EventType.ERASURE_COMPLETED, now, {"personas": len(erased), "guarded": sanctioned}
            )
        )
        return True

    def _revoke_passes(self, uow: UnitOfWork, personas: Sequence[str], now: datetime) -> None:
        for persona_id in personas:
            for issued in uow.passes.for_persona(persona_id):
                self.passes.set_revoked_for_good(uow, issued, now, "erasure")

    def _delete_personas(self, uow: UnitOfWork, personas: Sequence[str], now: datetime) -> None:
        """Revoke the personas' passes, then delete their rows, notices and purged extras."""
        self._revoke_passes(uow, personas, now)
        for purge in self.purges:
            purge(uow, personas)
        uow.person_data.delete_notices([persona_owner(p) for p in personas])
        uow.person_data.delete_personas(personas)

    def erase_released_personas(self, batch: int = 100) -> int:
        """Erase every kept persona no active hold covers any more (and finish interrupted ones).

        Per persona: rows deleted (passes revoked first) in one transaction, then its
        key destroyed, then its journal row deleted; a crash between steps is finished
        by the next run. Holds are matched as the sweep matches them (keyed hash of the
        owner, active at ``now``), and checked again in the deleting transaction.
        """
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            held = HeldSubjects(self.ctx, uow.holds.active_subjects(now))
        erased = 0
        after: str | None = None
        while True:
            with self.ctx.uow(write=False) as uow:
                page = uow.held_persona_erasures.page(after, batch)
            for persona_id in page:
                if held.covers(persona_owner(persona_id)):
                    continue
                with self.ctx.uow() as uow:
                    if persona_id not in uow.held_persona_erasures.ids_of([persona_id]):
                        continue
                    if hold_end_for(self.ctx, uow, [persona_owner(persona_id)], now) is not None:
                        continue
                    self._delete_personas(uow, [persona_id], now)
                    uow.outbox.append(
                        Event(EventType.ERASURE_COMPLETED, now, {"personas": 1, "guarded": False})
                    )
                self.ctx.vault.shred(persona_owner(persona_id))
                with self.ctx.uow() as uow:
                    uow.held_persona_erasures.remove(persona_id)
                erased += 1
            if len(page) < batch:
                return erased
            after = page[-1]

    def _shred(self, person_id: str) -> None:
        """Destroy the person's and every possible persona's data key but kept ones (idempotent)."""
        with self.ctx.uow(write=False) as uow:
            worlds = uow.worlds.ids()
            possible = [self.ctx.pseudonyms.persona_id(w, person_id) for w in worlds]
            kept = uow.held_persona_erasures.ids_of(possible)
        for persona_id in possible:
            if persona_id not in kept:
                self.ctx.vault.shred(persona_owner(persona_id))
        self.ctx.vault.shred(person_owner(person_id))
