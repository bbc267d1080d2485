"""Sanctions that bite: putting measures in force on personas, revoking and restoring passes,
the platform-scope escrow opening, and the check the pass service asks before it admits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from personae.crypto import tokens
from personae.domain.events import Event, EventType
from personae.domain.moderation import MEASURES, Measure, Scope
from personae.errors import NotFound
from personae.services.context import ServiceContext
from personae.services.passes import PassService
from personae.store.moderation_repo import DecisionRecord, SanctionRecord
from personae.store.records import PersonaRecord
from personae.store.translog_repo import TranslogRepo
from personae.store.uow import UnitOfWork

REVOKED_BY = "moderation"


class ActiveSanctions:
    """The pass service's sanction check: a suspension or ban in force on the persona, or
    one that is yet to begin (its passes were revoked when it was applied, and a pass
    issued meanwhile would stay valid through it)."""

    def refusal(self, uow: UnitOfWork, persona_id: str, now: datetime) -> str | None:
        blocking = uow.moderation.sanctions.in_force(persona_id, now, blocking=True, pending=True)
        if not blocking:
            return None
        if any(s.ends_at is None for s in blocking):
            return f"a {blocking[0].measure} without end blocks passes for this persona"
        until = max(s.ends_at for s in blocking if s.ends_at is not None)
        return f"a sanction blocks passes for this persona until {until.isoformat()}"


class Enforcement:
    """Applies and lifts a decision's measure on the personas it reaches."""

    def __init__(self, ctx: ServiceContext, passes: PassService) -> None:
        self.ctx = ctx
        self.passes = passes

    def _ref(self, decision_id: str, persona_id: str) -> bytes:
        """Names the decision on a sanction row without linking a person's personas."""
        return self.ctx.pseudonyms.lookup("sanction", decision_id, persona_id)

    def reach(
        self, uow: UnitOfWork, decision: DecisionRecord, now: datetime
    ) -> list[PersonaRecord]:
        """The personas a decision reaches: the reported one, or (platform scope) all the person's.

        A platform-scope reach opens the reported persona's escrow, inside the caller's
        transaction, and logs that it did; the person id never leaves this function.
        """
        reported = uow.personas.get(decision.persona_id)
        if reported is None:
            raise NotFound("no such persona")
        if Scope(decision.scope) is Scope.WORLD:
            return [reported]
        person_id = self.ctx.pseudonyms.open_link(reported.id, reported.world_id, reported.escrow)
        # A persona being opened now is then found below, or waits and sees the sanction.
        uow.personas.take_turns_for(self.ctx.pseudonyms.lookup("person-turn", person_id))
        TranslogRepo(uow.conn).append_event(
            Event(
                EventType.PLATFORM_SCOPE_OPENED,
                now,
                {"decision_id": decision.id, "case_id": decision.case_id},
            ),
            reported.id,
        )
        candidates = [self.ctx.pseudonyms.persona_id(w, person_id) for w in uow.worlds.ids()]
        return uow.personas.among(candidates)

    def apply(
        self,
        uow: UnitOfWork,
        decision_id: str,
        measure: Measure,
        personas: Sequence[PersonaRecord],
        *,
        starts_at: datetime,
        ends_at: datetime | None,
        now: datetime,
        platform: bool = False,
    ) -> int:
        """Put the measure in force on each persona; revoke their passes if it blocks them.
        ``platform`` marks a platform-scope decision's sanctions (the person then opens no
        new persona while they run).

        Returns how many passes were revoked.
        """
        rule = MEASURES[measure]
        if not rule.sanction:
            return 0
        # Before anything else, every persona at once and in one order: a pass issued
        # concurrently then either commits first (and is revoked below) or sees the
        # sanction (PostgreSQL's READ COMMITTED would otherwise let both through).
        uow.personas.lock([p.id for p in personas])
        revoked = 0
        for persona in personas:
            sanction = SanctionRecord(
                tokens.new_id("sanc_"),
                persona.id,
                persona.world_id,
                self._ref(decision_id, persona.id),
                measure.value,
                rule.blocks_passes,
                starts_at,
                ends_at,
                None,
                platform,
            )
            uow.moderation.sanctions.add(sanction)
            if not rule.blocks_passes:
                continue
            for record in uow.passes.for_persona(persona.id):
                if record.revoked_at is None and self.passes.set_revoked(
                    uow, record, now, REVOKED_BY
                ):
                    uow.moderation.sanctions.link_pass(sanction.id, record.id)
                    revoked += 1
        return revoked

    def lift(
        self,
        uow: UnitOfWork,
        decision_id: str,
        personas: Sequence[PersonaRecord],
        now: datetime,
    ) -> int:
        """Lift the decision's sanctions and restore the passes they revoked.

        A pass stays revoked while another blocking sanction is in force on its persona,
        or is yet to begin: it is then handed to that sanction, so that lifting it in
        turn restores the pass (its natural end does not, as for the passes it revoked
        itself). Returns how many passes were restored.
        """
        sanctions = uow.moderation.sanctions
        refs = [self._ref(decision_id, p.id) for p in personas]
        restored = 0
        for sanction in sanctions.by_refs(refs):
            sanctions.lift(sanction.id, now)
            revoked = sanctions.passes_of(sanction.id)
            # Another blocking sanction keeps them revoked, even one yet to begin: nothing
            # would revoke them again when it does.
            still = sanctions.in_force(sanction.persona_id, now, blocking=True, pending=True)
            if still:
                for other in still:
                    held = set(sanctions.passes_of(other.id))
                    for pass_id in revoked:
                        if pass_id not in held:
                            sanctions.link_pass(other.id, pass_id)
                continue
            for pass_id in revoked:
                record = uow.passes.get(pass_id)
                if record is not None and self.passes.set_restored(uow, record, now, REVOKED_BY):
                    restored += 1
        return restored
