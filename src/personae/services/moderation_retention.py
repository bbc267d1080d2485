"""The moderation records' retention sweep: whole cases, some time after the appeal window closed.

Plugged into ``RetentionService`` as the ``RecordClass.MODERATION`` class sweep. A case
goes together with everything that belongs only to it — reports, notes, its decision,
the appeal, the strike, the sanctions on every persona the decision reached and the
passes they remembered — in batches of whole cases, one transaction per batch, so an
interrupted sweep leaves no half-deleted case and the next one continues.

A case stays while its appeal is pending, while its strike still counts, while any of
its sanctions is in force (or has not ended yet), and while a legal hold covers the
reported persona or a person who reported it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from personae.crypto.vault import persona_owner
from personae.domain.moderation import Scope
from personae.services.context import ServiceContext
from personae.services.holds import HeldSubjects
from personae.store.moderation_repo import ExpiredCase, SanctionRecord
from personae.store.uow import UnitOfWork

log = logging.getLogger("personae.retention")


@dataclass
class ModerationSweepCounts:
    """What one moderation sweep did: cases and rows deleted, expired cases kept and why."""

    cases: int = 0
    rows: int = 0
    held_skipped: int = 0
    in_force_kept: int = 0


@dataclass
class _Batch:
    """One batch's decision of what goes: the cases, their decisions and sanctions."""

    case_ids: list[str] = field(default_factory=list)
    decision_ids: list[str] = field(default_factory=list)
    sanction_ids: list[str] = field(default_factory=list)


class ModerationSweep:
    """``ClassSweep`` for moderation records: ``sweep(cutoff, batch)`` → rows deleted."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.last = ModerationSweepCounts()

    def __call__(self, cutoff: datetime, batch: int) -> int:
        now = self.ctx.clock.now()
        counts = ModerationSweepCounts()
        after: str | None = None
        while True:
            with self.ctx.uow() as uow:
                found = uow.moderation.expiry.expired_cases(cutoff, now, after, batch)
                if not found:
                    break
                held = HeldSubjects(self.ctx, uow.holds.active_subjects(now))
                chosen = self._choose(uow, found, held, now, counts)
                counts.rows += uow.moderation.expiry.delete_cases(
                    chosen.case_ids, chosen.decision_ids, chosen.sanction_ids
                )
                counts.cases += len(chosen.case_ids)
                after = found[-1].case_id
            if len(found) < batch:
                break
        self.last = counts
        log.info(
            "moderation sweep: deleted %d cases (%d rows); held kept %d; in force kept %d",
            counts.cases,
            counts.rows,
            counts.held_skipped,
            counts.in_force_kept,
        )
        return counts.rows

    def _ref(self, decision_id: str, persona_id: str) -> bytes:
        # The keyed hash by which a sanction names its decision (``Enforcement._ref``).
        return self.ctx.pseudonyms.lookup("sanction", decision_id, persona_id)

    def _sanctions(
        self, uow: UnitOfWork, decided: list[ExpiredCase]
    ) -> dict[str, list[SanctionRecord]]:
        """Every sanction of these decisions, on every persona each one reached.

        The reported persona's are found by their ref. A platform-scope decision's
        sanctions on the person's other personas share no column with it; they start
        when the decision does, so the candidates starting then are tested by
        recomputing the ref from their own persona — no escrow is opened.
        """
        by_ref = {
            self._ref(e.decision_id, e.persona_id): e.decision_id
            for e in decided
            if e.decision_id is not None
        }
        platform: dict[datetime, list[str]] = defaultdict(list)
        for e in decided:
            if e.scope == Scope.PLATFORM.value and e.starts_at and e.decision_id:
                platform[e.starts_at].append(e.decision_id)
        found: dict[str, list[SanctionRecord]] = defaultdict(list)
        for sanction in uow.moderation.expiry.sanction_candidates(list(by_ref), list(platform)):
            owner = by_ref.get(sanction.decision_ref)
            if owner is None:
                owner = next(
                    (
                        d
                        for d in platform.get(sanction.starts_at, [])
                        if self._ref(d, sanction.persona_id) == sanction.decision_ref
                    ),
                    None,
                )
            if owner is not None:
                found[owner].append(sanction)
        return found

    def _choose(
        self,
        uow: UnitOfWork,
        found: list[ExpiredCase],
        held: HeldSubjects,
        now: datetime,
        counts: ModerationSweepCounts,
    ) -> _Batch:
        sanctions = self._sanctions(uow, [e for e in found if e.decision_id is not None])
        reporters: dict[str, list[str]] = defaultdict(list)
        for case_id, reporter in uow.moderation.expiry.reporters_of([e.case_id for e in found]):
            reporters[case_id].append(reporter)
        chosen = _Batch()
        for expired in found:
            own = sanctions.get(expired.decision_id or "", [])
            owners = [persona_owner(expired.persona_id)]
            owners += [persona_owner(s.persona_id) for s in own]
            owners += [r for r in reporters[expired.case_id] if r.startswith("person:")]
            if any(held.covers(o) for o in owners):
                counts.held_skipped += 1
                continue
            if any(s.lifted_at is None and (s.ends_at is None or s.ends_at > now) for s in own):
                counts.in_force_kept += 1
                continue
            chosen.case_ids.append(expired.case_id)
            if expired.decision_id is not None:
                chosen.decision_ids.append(expired.decision_id)
            chosen.sanction_ids.extend(s.id for s in own)
        return chosen
