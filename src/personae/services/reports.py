"""Reports (DSA Art. 16): from a world or a person, a receipt, folded into one open case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from personae.crypto import tokens
from personae.crypto.pseudonyms import is_persona_id
from personae.crypto.vault import person_owner
from personae.domain.events import Event, EventType
from personae.domain.moderation import CaseStatus, Source, case_priority
from personae.domain.policy import PLATFORM, Severity
from personae.errors import Conflict, FieldError, InvalidInput, NotFound
from personae.services.auth import PersonPrincipal, WorldPrincipal
from personae.services.context import ServiceContext
from personae.services.moderation import check_text, scope_kind
from personae.services.notices import post_notice
from personae.services.policies import clause_in_force
from personae.store.moderation_repo import CaseRecord, ReportRecord
from personae.store.uow import UnitOfWork


@dataclass(frozen=True)
class ReportInput:
    persona_id: str
    clause_scope: str  # "world" (the reported persona's world) or "platform"
    clause_id: str
    location: str
    explanation: str
    good_faith: bool


@dataclass(frozen=True)
class ReportReceipt:
    report_id: str
    received_at: datetime
    clause_scope: str
    clause_id: str
    policy_version: int


@dataclass(frozen=True)
class ReportOutcome:
    """What a reporting world reads: the outcome, never anything about the person."""

    report_id: str
    received_at: datetime
    decided: bool
    measure: str | None
    clauses: list[str]
    notes: list[str]


class ReportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- reports (DSA Art. 16) ---------------------------------------------------

    def report_from_world(self, world: WorldPrincipal, report: ReportInput) -> ReportReceipt:
        return self._report(f"world:{world.world_id}", world.world_id, report)

    def report_from_person(
        self, who: PersonPrincipal, world_id: str, report: ReportInput
    ) -> ReportReceipt:
        return self._report(person_owner(who.person_id), world_id, report)

    def _report(self, reporter: str, world_id: str, report: ReportInput) -> ReportReceipt:
        if not report.good_faith:
            raise InvalidInput(
                "confirm the report is made in good faith",
                [FieldError(("good_faith",), "required")],
            )
        check_text(report.location, "location", 300)
        check_text(report.explanation, "explanation", 4000)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            # Unknown, and another world's, persona: the very same answer.
            persona = (
                uow.personas.get(report.persona_id) if is_persona_id(report.persona_id) else None
            )
            if persona is None or persona.world_id != world_id:
                raise NotFound("no such persona")
            scope = PLATFORM if report.clause_scope == PLATFORM else world_id
            policy, clause = clause_in_force(uow, scope, report.clause_id, now, ("clause_id",))
            standing = uow.moderation.reporters.get(reporter)
            credible = standing is None or not (
                standing.deprioritised_until and standing.deprioritised_until > now
            )
            case = self._fold(
                uow,
                persona_id=persona.id,
                world_id=world_id,
                scope=scope,
                clause_id=clause.id,
                severity=clause.severity,
                credible=credible,
            )
            receipt = ReportReceipt(tokens.new_id("rep_"), now, scope, clause.id, policy.version)
            uow.moderation.reports.add(
                ReportRecord(
                    receipt.report_id,
                    case.id,
                    world_id,
                    persona.id,
                    scope,
                    clause.id,
                    policy.version,
                    reporter,
                    report.location.strip(),
                    report.explanation.strip(),
                    True,
                    credible,
                    False,
                    now,
                )
            )
            kind = reporter.partition(":")[0]
            uow.outbox.append(
                Event(
                    EventType.REPORT_RECEIVED,
                    now,
                    {
                        "world_id": world_id,
                        "clause_scope": scope_kind(scope),
                        "reporter_kind": kind,
                    },
                )
            )
            if kind == "person":
                body = {
                    "report_id": receipt.report_id,
                    "received_at": now.isoformat(),
                    "clause": {"scope": scope_kind(scope), "id": clause.id, "title": clause.title},
                }
                post_notice(self.ctx, uow, reporter, "moderation.report_received", body, now=now)
        return receipt

    def report_outcome(self, world: WorldPrincipal, report_id: str) -> ReportOutcome:
        """A world's own report: decided or not, the measure, the notes meant for reporters."""
        with self.ctx.uow(write=False) as uow:
            report = uow.moderation.reports.get(report_id) if len(report_id) <= 40 else None
            if report is None or report.reporter != f"world:{world.world_id}":
                raise NotFound("no such report")
            decision = uow.moderation.decisions.for_case(report.case_id)
            notes = [n.text for n in uow.moderation.notes.for_case(report.case_id, "reporter")]
        return ReportOutcome(
            report.id,
            report.received_at,
            decision is not None,
            decision.measure if decision else None,
            [c["clause_id"] for c in decision.citations] if decision else [],
            notes,
        )

    def _fold(
        self,
        uow: UnitOfWork,
        *,
        persona_id: str,
        world_id: str,
        scope: str,
        clause_id: str,
        severity: Severity,
        credible: bool,
    ) -> CaseRecord:
        """The open case for this persona and clause, with this report counted; new if none."""
        open_key = f"{persona_id}|{scope}|{clause_id}"
        cases = uow.moderation.cases
        for _attempt in range(2):
            case = cases.open_for(open_key)
            if case is not None:
                reports = case.report_count + 1
                cases.fold(case.id, case_priority(severity, reports if credible else 0))
                return replace(case, report_count=reports)
            case = CaseRecord(
                tokens.new_id("case_"),
                world_id,
                persona_id,
                scope,
                clause_id,
                severity.value,
                Source.REPORT.value,
                CaseStatus.OPEN.value,
                case_priority(severity, int(credible)),
                world_id,
                open_key,
                None,
                1,
                self.ctx.clock.now(),
                None,
                None,
            )
            try:
                with uow.conn.begin_nested():
                    cases.add(case)
            except IntegrityError:
                continue  # a concurrent report opened it first: fold into that one
            return case
        raise Conflict("the case changed while the report was filed; send it again")
