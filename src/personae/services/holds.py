"""Legal holds: opening, extending once, ending by themselves, and telling what a hold covers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from personae.crypto import tokens
from personae.crypto.vault import person_owner, persona_owner
from personae.domain.events import Event, EventType
from personae.domain.lawful_access import (
    COMPELS,
    HOLD_PERIODS,
    HoldBasis,
    HoldWindow,
    ProcessType,
    TargetScope,
    check_new_litigation_hold,
)
from personae.domain.staff import Action, may
from personae.errors import Conflict, Forbidden, NotFound
from personae.services.auth import StaffPrincipal
from personae.services.context import ServiceContext
from personae.services.personas import owned_personas
from personae.services.production import unmask
from personae.store.lawful_repo import HoldRecord, LawfulRequestRecord
from personae.store.uow import UnitOfWork


def subject_hash(ctx: ServiceContext, owner: str) -> bytes:
    """The keyed hash a hold stores for a vault owner ("person:<id>", "persona:<id>")."""
    return ctx.pseudonyms.lookup("held", owner)


class HeldSubjects:
    """The owners under an active hold at one instant, tested by keyed hash (cached per owner)."""

    def __init__(self, ctx: ServiceContext, hashes: set[bytes]) -> None:
        self._ctx = ctx
        self._hashes = hashes
        self._seen: dict[str, bool] = {}

    def covers(self, owner: str) -> bool:
        if not self._hashes:
            return False
        found = self._seen.get(owner)
        if found is None:
            found = self._seen[owner] = subject_hash(self._ctx, owner) in self._hashes
        return found


def hold_end_for(
    ctx: ServiceContext, uow: UnitOfWork, owners: Sequence[str], now: datetime
) -> datetime | None:
    """When the last active hold on any of these owners ends; None when none is held."""
    return uow.holds.latest_end([subject_hash(ctx, o) for o in owners], now)


def open_hold(
    ctx: ServiceContext,
    uow: UnitOfWork,
    *,
    basis: HoldBasis,
    scope: TargetScope,
    world_id: str,
    persona_id: str,
    covered_owners: Iterable[str],
    by: str,
    request_id: str | None,
    now: datetime,
) -> HoldRecord:
    """Freeze the named records for the basis's period, in the caller's transaction; logged."""
    window = HoldWindow.opened(basis, now)
    record = HoldRecord(
        tokens.new_id("hold_"),
        request_id,
        basis.value,
        scope.value,
        world_id,
        persona_id,
        by,
        now,
        window.ends_at,
        0,
        None,
    )
    uow.holds.add(record, [subject_hash(ctx, o) for o in covered_owners])
    uow.outbox.append(
        Event(
            EventType.HOLD_CREATED,
            now,
            {
                "hold_id": record.id,
                "request_id": request_id,
                "basis": basis.value,
                "days": HOLD_PERIODS[basis].days,
            },
        )
    )
    return record


def preserve(
    ctx: ServiceContext, uow: UnitOfWork, request: LawfulRequestRecord, now: datetime
) -> HoldRecord:
    """Execute a preservation request: a hold on the persona, or on the person behind it.

    For the person, the escrowed link is opened (logged, as the process allows) to
    name the person's records and every persona of theirs, each by keyed hash.
    """
    basis = COMPELS[ProcessType(request.process_type)].hold
    if basis is None:
        raise Conflict("only a preservation process makes a hold")
    persona = uow.personas.get(request.target_persona_id)
    if persona is None or persona.world_id != request.target_world_id:
        raise NotFound("the persona named by the request no longer exists")
    scope = TargetScope(request.target_scope)
    owners = [persona_owner(persona.id)]
    if scope is TargetScope.PERSON:
        person_id = unmask(
            ctx, uow, request=request, persona=persona, purpose="preservation", now=now
        )
        owners = [person_owner(person_id)] + [
            persona_owner(p.id) for p in owned_personas(ctx, uow, person_id)
        ]
    return open_hold(
        ctx,
        uow,
        basis=basis,
        scope=scope,
        world_id=persona.world_id,
        persona_id=persona.id,
        covered_owners=owners,
        by=request.executed_by or request.intake_by,
        request_id=request.id,
        now=now,
    )


def end_lapsed_holds(uow: UnitOfWork, now: datetime) -> int:
    """Mark holds past their end as ended (they stopped protecting anything at ``ends_at``)."""
    ended = 0
    for hold in uow.holds.lapsed(now):
        if uow.holds.mark_ended(hold.id, hold.ends_at):
            uow.outbox.append(
                Event(EventType.HOLD_ENDED, now, {"hold_id": hold.id, "basis": hold.basis})
            )
            ended += 1
    return ended


def _require(actor: StaffPrincipal) -> None:
    if not may(actor.role, Action.MANAGE_LEGAL_HOLDS):
        raise Forbidden("only a legal officer manages legal holds")


class HoldService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def litigation_hold(self, actor: StaffPrincipal, world_id: str, persona_id: str) -> HoldRecord:
        """A litigation hold on one persona's records (a person needs a request and unmasking).

        Refused (409) while a litigation hold on the persona runs, or ended less than
        its own length ago: a hold with no legal request behind it cannot be chained.
        """
        _require(actor)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            persona = uow.personas.get(persona_id) if len(persona_id) <= 64 else None
            if persona is None or persona.world_id != world_id:
                raise NotFound("no such persona in that world")
            uow.personas.lock([persona_id])  # two officers at once: one hold, one 409
            earlier = uow.holds.of_basis_covering(
                HoldBasis.LITIGATION.value, subject_hash(self.ctx, persona_owner(persona_id))
            )
            check_new_litigation_hold(
                ((h.created_at, min(h.ended_at or h.ends_at, h.ends_at)) for h in earlier), now
            )
            return open_hold(
                self.ctx,
                uow,
                basis=HoldBasis.LITIGATION,
                scope=TargetScope.PERSONA,
                world_id=world_id,
                persona_id=persona_id,
                covered_owners=[persona_owner(persona_id)],
                by=actor.staff_id,
                request_id=None,
                now=now,
            )

    def extend(self, actor: StaffPrincipal, hold_id: str) -> HoldRecord:
        """Extend a running hold once, by its basis's period; a second extension is a 409."""
        _require(actor)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            hold = uow.holds.get(hold_id, lock=True) if len(hold_id) <= 40 else None
            if hold is None or hold.ended_at is not None or hold.ends_at <= now:
                raise NotFound("no such running hold")
            basis = HoldBasis(hold.basis)
            window = HoldWindow(basis, hold.ends_at, hold.extensions).extended()
            uow.holds.extend(hold.id, window.ends_at, window.extensions)
            uow.outbox.append(
                Event(
                    EventType.HOLD_EXTENDED,
                    now,
                    {"hold_id": hold.id, "basis": basis.value, "days": HOLD_PERIODS[basis].days},
                )
            )
            found = uow.holds.get(hold.id)
        if found is None:
            raise NotFound("no such running hold")
        return found

    def holds(self, actor: StaffPrincipal, limit: int = 200) -> list[HoldRecord]:
        _require(actor)
        with self.ctx.uow(write=False) as uow:
            return uow.holds.all(limit)
