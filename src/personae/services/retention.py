"""The retention sweeper: deletes expired records in batches, skips held ones, runs due erasures
and erases the personas an erasure kept under a hold once no active hold covers them.

Each batch is its own transaction, so an interrupted sweep leaves whole batches
done and nothing half-deleted; the next sweep continues where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from personae.domain.events import Event, EventType
from personae.domain.retention import RETENTION, RecordClass, RetentionPolicy
from personae.services.context import ServiceContext
from personae.services.erasure import ErasureService
from personae.services.holds import HeldSubjects, end_lapsed_holds
from personae.services.lawful_access import LawfulAccessService
from personae.store.retention_repo import ROW_CLASSES

log = logging.getLogger("personae.retention")

# The classes whose rows a sweep deletes (a closed account's grace is counted as erasures).
SWEPT_CLASSES = frozenset(RecordClass) - {RecordClass.ERASURE_GRACE}

# A record class another feature sweeps itself (moderation records): given the
# cutoff and a batch size, deletes what expired before it; returns rows deleted.
ClassSweep = Callable[[datetime, int], int]


@dataclass
class SweepReport:
    """What one sweep did: rows deleted per record class, held rows kept, erasures run."""

    deleted: dict[str, int] = field(
        default_factory=lambda: {c.value: 0 for c in RecordClass if c in SWEPT_CLASSES}
    )
    held_skipped: int = 0
    erasures: int = 0
    kept_personas_erased: int = 0
    holds_ended: int = 0
    reviews_flagged: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values())

    def summary(self) -> str:
        counts = " ".join(f"{k}={v}" for k, v in self.deleted.items() if v)
        return (
            f"retention sweep: deleted {self.total} ({counts or 'nothing expired'}); "
            f"held kept {self.held_skipped}; erasures {self.erasures} "
            f"(+{self.kept_personas_erased} kept personas); "
            f"holds ended {self.holds_ended}; emergency reviews flagged {self.reviews_flagged}"
        )


class RetentionService:
    def __init__(
        self,
        ctx: ServiceContext,
        policy: RetentionPolicy,
        erasure: ErasureService,
        lawful: LawfulAccessService,
        *,
        batch_size: int,
        class_sweeps: Mapping[RecordClass, ClassSweep] | None = None,
    ) -> None:
        self.ctx = ctx
        self.class_sweeps = dict(class_sweeps or {})
        self.policy = policy
        self.erasure = erasure
        self.lawful = lawful
        self.batch_size = batch_size

    def recent_sweeps(self, limit: int = 10) -> list[tuple[datetime, dict[str, Any]]]:
        """When the last sweeps ran and what each deleted (from their accountability events)."""
        with self.ctx.uow(write=False) as uow:
            events = uow.outbox.recent_of_type(EventType.RETENTION_SWEPT.value, limit)
        return [(event.occurred_at, dict(event.payload)) for event in events]

    def sweep(self, batch_size: int | None = None) -> SweepReport:
        """Delete every expired record not under a hold; logs and records a summary."""
        batch = batch_size or self.batch_size
        now = self.ctx.clock.now()
        report = SweepReport()
        with self.ctx.uow() as uow:
            report.holds_ended = end_lapsed_holds(uow, now)
        for cls in ROW_CLASSES:
            self._sweep_rows(cls, now, batch, report)
        report.deleted[RecordClass.LAWFUL_REQUESTS] = self._sweep_lawful(now, batch)
        report.deleted[RecordClass.LEGAL_HOLDS] = self._sweep_holds(now, batch)
        for cls, class_sweep in self.class_sweeps.items():
            report.deleted[cls] += class_sweep(self.policy.cutoff(cls, now), batch)
        report.erasures = self.erasure.run_due()
        report.kept_personas_erased = self.erasure.erase_released_personas(batch)
        report.reviews_flagged = self.lawful.flag_missed_reviews()
        with self.ctx.uow() as uow:
            payload: dict[str, Any] = {**report.deleted, "erasures": report.erasures}
            uow.outbox.append(
                Event(
                    EventType.RETENTION_SWEPT, now, {**payload, "held_skipped": report.held_skipped}
                )
            )
        log.info(report.summary())
        return report

    def _sweep_rows(self, cls: RecordClass, now: datetime, batch: int, report: SweepReport) -> None:
        cutoff = self.policy.cutoff(cls, now)
        holdable = RETENTION[cls].holdable
        after: Any = None
        while True:
            with self.ctx.uow() as uow:
                rows = uow.sweeps.expired(cls, cutoff, after, batch)
                if not rows:
                    return
                # The holds as they are now, in the transaction that deletes: a hold made
                # while a long sweep runs covers the batches after it.
                held = HeldSubjects(self.ctx, uow.holds.active_subjects(now)) if holdable else None
                keep = [k for k, owner in rows if held and owner and held.covers(owner)]
                kept = set(keep)
                report.deleted[cls] += uow.sweeps.delete(cls, [k for k, _ in rows if k not in kept])
                report.held_skipped += len(keep)
                after = rows[-1][0]
            if len(rows) < batch:
                return

    def _sweep_lawful(self, now: datetime, batch: int) -> int:
        """Requests closed longer than their period ago: the package's key first, then rows."""
        cutoff = self.policy.cutoff(RecordClass.LAWFUL_REQUESTS, now)
        deleted = 0
        while True:
            with self.ctx.uow(write=False) as uow:
                ids = uow.lawful_requests.closed_before(cutoff, batch)
            for request_id in ids:
                self.ctx.vault.shred(f"lawful:{request_id}")
            with self.ctx.uow() as uow:
                deleted += uow.lawful_requests.remove(ids) if ids else 0
            if len(ids) < batch:
                return deleted

    def _sweep_holds(self, now: datetime, batch: int) -> int:
        cutoff = self.policy.cutoff(RecordClass.LEGAL_HOLDS, now)
        deleted = 0
        while True:
            with self.ctx.uow() as uow:
                ids = uow.holds.ended_before(cutoff, batch)
                deleted += uow.holds.remove(ids) if ids else 0
            if len(ids) < batch:
                return deleted
