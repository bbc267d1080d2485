"""Decisions (DSA Art. 17): the statement of reasons, enforcement, strikes, unfounded reporters,
and the notices to the person and to the reporters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from personae.crypto import tokens
from personae.crypto.vault import persona_owner
from personae.domain.events import Event, EventType
from personae.domain.moderation import (
    COURT,
    MEASURES,
    OUT_OF_COURT,
    UNDECIDED,
    CaseAction,
    CaseStatus,
    Citation,
    DecisionDraft,
    Measure,
    Scope,
)
from personae.domain.policy import PLATFORM, SEVERITY_WEIGHT, Severity
from personae.domain.standing import STRIKE_LIFETIME, ReporterPolicy, ReporterStep, strike_weight
from personae.errors import Conflict, FieldError, Forbidden, InvalidInput
from personae.services.auth import StaffPrincipal
from personae.services.context import ServiceContext
from personae.services.enforcement import Enforcement
from personae.services.moderation import review, reviewer_code
from personae.services.notices import post_notice
from personae.services.policies import clause_in_force
from personae.store.moderation_repo import CaseRecord, DecisionRecord, StrikeRecord
from personae.store.translog_repo import TranslogRepo
from personae.store.uow import UnitOfWork


@dataclass(frozen=True)
class DecisionInput:
    measure: Measure
    scope: Scope
    facts: str
    citations: tuple[Citation, ...]  # Citation.scope is "world" or "platform"
    ends_at: datetime | None = None
    starts_at: datetime | None = None  # now, when not given
    automated: bool = False
    appeal_window_days: int = 183
    unfounded_reports: bool = False  # the reports were manifestly unfounded (no action only)


def statement_of_reasons(decision: DecisionRecord) -> dict[str, Any]:
    """What the person is told: every field of the statement, how to appeal, the log entry."""
    return {
        "decision_id": decision.id,
        "world_id": decision.world_id,
        "measure": decision.measure,
        "scope": decision.scope,
        "starts_at": decision.starts_at.isoformat(),
        "ends_at": decision.ends_at.isoformat() if decision.ends_at else None,
        "facts": decision.facts,
        "source": decision.source,
        "automated": decision.automated,
        "clauses": decision.citations,
        "reviewer": {"role": decision.reviewer_role, "code": decision.reviewer_code},
        "redress": {
            "appeal_deadline": decision.appeal_deadline.isoformat(),
            "how_to_appeal": f"POST /v1/me/decisions/{decision.id}/appeal before the deadline",
            "out_of_court": OUT_OF_COURT,
            "court": COURT,
        },
        "log": {"outbox_event_id": decision.outbox_event_id},
    }


class DecisionService:
    def __init__(
        self,
        ctx: ServiceContext,
        enforcement: Enforcement,
        reporter_policy: ReporterPolicy | None = None,
    ) -> None:
        self.ctx = ctx
        self.enforcement = enforcement
        self.reporter_policy = reporter_policy or ReporterPolicy()

    def decide(self, actor: StaffPrincipal, case_id: str, given: DecisionInput) -> DecisionRecord:
        """Decide a case: exactly one decision per case, however many reviewers try at once."""
        now = self.ctx.clock.now()
        starts = given.starts_at or now
        draft = DecisionDraft(
            given.measure,
            given.scope,
            starts,
            given.ends_at,
            given.facts,
            given.automated,
            given.citations,
            timedelta(days=given.appeal_window_days),
        )
        draft.validate(now)
        if given.unfounded_reports and given.measure is not Measure.NO_ACTION:
            raise InvalidInput(
                "only a decision to take no action finds the reports unfounded",
                [FieldError(("unfounded_reports",), "no_action only")],
            )
        with self.ctx.uow() as uow:
            reviewing = review(uow, actor, case_id, CaseAction.DECIDE)
            case = reviewing.case
            if (
                given.scope is Scope.PLATFORM
                and CaseAction.DECIDE_PLATFORM not in reviewing.actions
            ):
                raise Forbidden("platform scope is for platform trust & safety, on escalated cases")
            cited, severity = self._cite(uow, case, given.citations, now)
            # Claim the case only in the state the permission was read from: a colleague's
            # escalation committed meanwhile takes it out of a world moderator's hands.
            if not uow.moderation.cases.move(
                case.id,
                [s.value for s in UNDECIDED],
                escalated=case.escalated_at is not None,
                status=CaseStatus.DECIDED.value,
                queue=None,
                open_key=None,
                decided_at=now,
            ):
                raise Conflict("another reviewer decided or escalated this case first")
            decision = self._record(
                uow,
                actor=actor,
                kind=reviewing.kind.value,
                case=case,
                given=given,
                cited=cited,
                starts=starts,
                draft=draft,
                now=now,
            )
            if MEASURES[given.measure].sanction:
                personas = self.enforcement.reach(uow, decision, now)
                self.enforcement.apply(
                    uow,
                    decision.id,
                    given.measure,
                    personas,
                    starts_at=starts,
                    ends_at=given.ends_at,
                    now=now,
                    platform=Scope(decision.scope) is Scope.PLATFORM,
                )
            if MEASURES[given.measure].strike:
                uow.moderation.strikes.add(
                    StrikeRecord(
                        tokens.new_id("strk_"),
                        case.persona_id,
                        case.world_id,
                        decision.id,
                        severity.value,
                        strike_weight(severity),
                        now,
                        now + STRIKE_LIFETIME[severity],
                        None,
                    )
                )
            if given.unfounded_reports:
                self._unfounded(uow, case, now)
            body = statement_of_reasons(decision)
            post_notice(
                self.ctx,
                uow,
                persona_owner(case.persona_id),
                "moderation.decision",
                body,
                now=now,
                outbox_event_id=decision.outbox_event_id,
            )
            self._tell_reporters(uow, case, decision, now)
        return decision

    def _cite(
        self, uow: UnitOfWork, case: CaseRecord, citations: tuple[Citation, ...], now: datetime
    ) -> tuple[list[dict[str, Any]], Severity]:
        """Each cited clause as the policy in force now words it, and the gravest severity."""
        cited: list[dict[str, Any]] = []
        severities: list[Severity] = []
        for n, citation in enumerate(citations):
            scope = PLATFORM if citation.scope == PLATFORM else case.world_id
            policy, clause = clause_in_force(
                uow, scope, citation.clause_id, now, ("clauses", n, "clause_id")
            )
            severities.append(clause.severity)
            cited.append(
                {
                    "scope": PLATFORM if scope == PLATFORM else "world",
                    "policy_version": policy.version,
                    "clause_id": clause.id,
                    "title": clause.title,
                    "severity": clause.severity.value,
                    "explanation": citation.explanation.strip(),
                }
            )
        return cited, max(severities, key=lambda s: SEVERITY_WEIGHT[s])

    def _record(
        self,
        uow: UnitOfWork,
        *,
        actor: StaffPrincipal,
        kind: str,
        case: CaseRecord,
        given: DecisionInput,
        cited: list[dict[str, Any]],
        starts: datetime,
        draft: DecisionDraft,
        now: datetime,
    ) -> DecisionRecord:
        decision_id = tokens.new_id("dec_")
        duration = (given.ends_at - starts).days if given.ends_at else None
        # The event names the persona only as a salted commitment once logged (#3).
        event_id = TranslogRepo(uow.conn).append_event(
            Event(
                EventType.DECISION_MADE,
                now,
                {
                    "decision_id": decision_id,
                    "case_id": case.id,
                    "world_id": case.world_id,
                    "scope": given.scope.value,
                    "measure": given.measure.value,
                    "clauses": ",".join(f"{c['scope']}:{c['clause_id']}" for c in cited),
                    "source": case.source,
                    "automated": given.automated,
                    "duration_days": duration,
                    "handling_seconds": int((now - case.created_at).total_seconds()),
                },
            ),
            case.persona_id,
        )
        decision = DecisionRecord(
            decision_id,
            case.id,
            case.world_id,
            case.persona_id,
            given.scope.value,
            given.measure.value,
            starts,
            given.ends_at,
            given.facts.strip(),
            case.source,
            given.automated,
            cited,
            now + draft.appeal_window,
            actor.staff_id,
            kind,
            reviewer_code(self.ctx, actor.staff_id),
            now,
            "in_force",
            event_id,
        )
        uow.moderation.decisions.add(decision)
        return decision

    def _unfounded(self, uow: UnitOfWork, case: CaseRecord, now: datetime) -> None:
        """Count the case's reports as manifestly unfounded; warn, then deprioritise, reporters."""
        reports = [r for r in uow.moderation.reports.for_case(case.id) if not r.unfounded]
        uow.moderation.reports.mark_unfounded(case.id)
        for reporter, count in Counter(r.reporter for r in reports).items():
            total = uow.moderation.reporters.count_unfounded(reporter, count)
            record = uow.moderation.reporters.get(reporter)
            step = self.reporter_policy.step(total, bool(record and record.warned_at))
            if step is None:
                continue
            if step is ReporterStep.DEPRIORITISE:
                until = now + self.reporter_policy.deprioritise_for
                uow.moderation.reporters.mark(reporter, deprioritised_until=until)
                body = {"unfounded_reports": total, "deprioritised_until": until.isoformat()}
            else:
                uow.moderation.reporters.mark(reporter, warned_at=now)
                body = {
                    "unfounded_reports": total,
                    "deprioritise_after": self.reporter_policy.deprioritise_after,
                }
            if reporter.startswith("person:"):
                post_notice(
                    self.ctx, uow, reporter, f"moderation.reporter_{step.value}", body, now=now
                )

    def _tell_reporters(
        self, uow: UnitOfWork, case: CaseRecord, decision: DecisionRecord, now: datetime
    ) -> None:
        """Each person who reported learns the outcome, never who was reported."""
        notes = [n.text for n in uow.moderation.notes.for_case(case.id, "reporter")]
        for report in uow.moderation.reports.for_case(case.id):
            if not report.reporter.startswith("person:"):
                continue  # a world reads the outcome through its API
            body = {
                "report_id": report.id,
                "received_at": report.received_at.isoformat(),
                "measure": decision.measure,
                "clauses": [c["clause_id"] for c in decision.citations],
                "notes": notes,
                "log": {"outbox_event_id": decision.outbox_event_id},
            }
            post_notice(
                self.ctx,
                uow,
                report.reporter,
                "moderation.report_outcome",
                body,
                now=now,
                outbox_event_id=decision.outbox_event_id,
            )
