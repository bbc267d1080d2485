"""The appeals queue of a reviewer: appeals they may review, never of their own decisions."""

from __future__ import annotations

from dataclasses import dataclass

from personae.domain.moderation import CaseAction
from personae.errors import Conflict, Forbidden, NotFound
from personae.services.appeals import AppealService
from personae.services.auth import StaffPrincipal
from personae.services.context import ServiceContext
from personae.services.moderation import review
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
        """Appeals in the reviewer's scope, leaving out (in the query, before the limit)
        every decision they made themselves."""
        pending = self.appeals.pending(actor, limit, others_only=True)
        items = []
        with self.ctx.uow(write=False) as uow:
            for appeal in pending:
                decision = uow.moderation.decisions.get(appeal.decision_id)
                if decision is not None and decision.decided_by != actor.staff_id:
                    items.append(AppealItem(appeal, decision))
        return items

    def item(self, actor: StaffPrincipal, appeal_id: str) -> AppealItem:
        """One appeal of the reviewer's queue: pending, on a case they may review the appeals
        of, and not of their own decision; NotFound alike for anything else."""
        missing = NotFound("no such appeal")
        with self.ctx.uow(write=False) as uow:
            appeal = uow.moderation.appeals.get(appeal_id) if len(appeal_id) <= 40 else None
            decision = uow.moderation.decisions.get(appeal.decision_id) if appeal else None
            if appeal is None or decision is None or appeal.status != "pending":
                raise missing
            try:
                review(uow, actor, decision.case_id, CaseAction.REVIEW_APPEAL)
            except (NotFound, Forbidden, Conflict):
                raise missing from None
            if decision.decided_by == actor.staff_id:
                raise missing
            return AppealItem(appeal, decision)
