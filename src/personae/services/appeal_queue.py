"""The appeals queue of a reviewer: appeals they may review, never of their own decisions."""

from __future__ import annotations

from dataclasses import dataclass

from personae.errors import NotFound
from personae.services.appeals import AppealService
from personae.services.auth import StaffPrincipal
from personae.services.context import ServiceContext
from personae.store.moderation_repo import AppealRecord, DecisionRecord


@dataclass(frozen=True)
class AppealItem:
    appeal: AppealRecord
    decision: DecisionRecord


class AppealQueue:
    def __init__(self, ctx: ServiceContext, appeals: AppealService) -> None:
        self.ctx = ctx
        self.appeals = appeals

    def for_reviewer(self, actor: StaffPrincipal, limit: int = 100) -> list[AppealItem]:
        """Appeals in the reviewer's scope, leaving out every decision they made themselves."""
        pending = self.appeals.pending(actor, limit * 2)
        items = []
        with self.ctx.uow(write=False) as uow:
            for appeal in pending:
                decision = uow.moderation.decisions.get(appeal.decision_id)
                if decision is not None and decision.decided_by != actor.staff_id:
                    items.append(AppealItem(appeal, decision))
        return items[:limit]

    def item(self, actor: StaffPrincipal, appeal_id: str) -> AppealItem:
        """One appeal of the reviewer's queue; NotFound alike for others' and own decisions."""
        for found in self.for_reviewer(actor, 1000):
            if found.appeal.id == appeal_id:
                return found
        raise NotFound("no such appeal")
