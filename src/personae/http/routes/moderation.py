"""Routes of moderation: policies, reports, the reviewers' queues and cases, decisions,
appeals and standing, for the public, worlds, persons and staff."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, status

from personae.domain.moderation import AppealOutcome, Citation, Measure, Scope
from personae.http.deps import PersonDep, ServicesDep, StaffDep, WorldDep
from personae.http.schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    CaseDetailOut,
    CaseOut,
    DecisionIn,
    DecisionOut,
    EscalateIn,
    NoteIn,
    NoteOut,
    OwnCaseIn,
    PersonDecisionOut,
    PersonReportIn,
    PersonStandingOut,
    PolicyIn,
    PolicyOut,
    QueueOut,
    ReceiptOut,
    ReportIn,
    ReportOutcomeOut,
    WorldStandingOut,
)
from personae.services.appeals import AppealInput
from personae.services.decisions import DecisionInput
from personae.services.reports import ReportInput

router = APIRouter(prefix="/v1", tags=["moderation"])


def _report(body: ReportIn) -> ReportInput:
    return ReportInput(
        body.persona_id,
        body.clause_scope,
        body.clause_id,
        body.location,
        body.explanation,
        body.good_faith,
    )


# -- public: policies -----------------------------------------------------------------


@router.get("/worlds/{world_id}/policy")
def world_policy(svc: ServicesDep, world_id: str = Path(max_length=64)) -> list[PolicyOut]:
    """Every version a world has published, oldest first; decisions cite one of them."""
    return [PolicyOut.model_validate(p) for p in svc.policies.versions(world_id)]


@router.get("/platform/policy")
def platform_policy(svc: ServicesDep) -> list[PolicyOut]:
    """The platform's own policy for severe cross-world harms, every version."""
    return [PolicyOut.model_validate(p) for p in svc.policies.versions("platform")]


# -- worlds (API key) -------------------------------------------------------------------


@router.put("/worlds/me/policy", status_code=status.HTTP_201_CREATED, tags=["world API"])
def publish_world_policy(body: PolicyIn, world: WorldDep, svc: ServicesDep) -> PolicyOut:
    """Publish the next version of this world's policy (earlier versions stay readable)."""
    clauses = [c.model_dump() for c in body.clauses]
    return PolicyOut.model_validate(svc.policies.publish_for_world(world, clauses))


@router.post("/worlds/me/reports", status_code=status.HTTP_201_CREATED, tags=["world API"])
def world_report(body: ReportIn, world: WorldDep, svc: ServicesDep) -> ReceiptOut:
    """Report one of this world's personas (DSA Art. 16); the receipt names the report."""
    return ReceiptOut.model_validate(svc.reports.report_from_world(world, _report(body)))


@router.get("/worlds/me/reports/{report_id}", tags=["world API"])
def world_report_outcome(
    world: WorldDep, svc: ServicesDep, report_id: str = Path(max_length=64)
) -> ReportOutcomeOut:
    return ReportOutcomeOut.model_validate(svc.reports.report_outcome(world, report_id))


@router.get("/worlds/me/personas/{persona_id}/standing", tags=["world API"])
def world_standing(
    world: WorldDep, svc: ServicesDep, persona_id: str = Path(max_length=64)
) -> WorldStandingOut:
    """The persona's tier in this world and the measures in force to enforce."""
    return WorldStandingOut.model_validate(svc.standing.for_world(world, persona_id))


# -- persons (session) ------------------------------------------------------------------


@router.post("/me/reports", status_code=status.HTTP_201_CREATED)
def person_report(body: PersonReportIn, who: PersonDep, svc: ServicesDep) -> ReceiptOut:
    """Report a persona of a world; the outcome arrives in your inbox."""
    receipt = svc.reports.report_from_person(who, body.world_id, _report(body))
    return ReceiptOut.model_validate(receipt)


@router.get("/me/decisions")
def my_decisions(who: PersonDep, svc: ServicesDep) -> list[PersonDecisionOut]:
    return [PersonDecisionOut.model_validate(d) for d in svc.appeals.decisions(who)]


@router.post("/me/decisions/{decision_id}/appeal", status_code=status.HTTP_201_CREATED)
def appeal(
    body: AppealIn, who: PersonDep, svc: ServicesDep, decision_id: str = Path(max_length=64)
) -> AppealOut:
    """Appeal a decision on your persona before the deadline in its statement (Art. 20)."""
    return AppealOut.model_validate(svc.appeals.file(who, decision_id, body.statement))


@router.get("/me/standing")
def my_standing(who: PersonDep, svc: ServicesDep) -> list[PersonStandingOut]:
    """Your standing in each world, and why."""
    return [PersonStandingOut.model_validate(s) for s in svc.standing.for_person(who)]


# -- staff ------------------------------------------------------------------------------


@router.put("/platform/policy", status_code=status.HTTP_201_CREATED, tags=["staff"])
def publish_platform_policy(body: PolicyIn, actor: StaffDep, svc: ServicesDep) -> PolicyOut:
    clauses = [c.model_dump() for c in body.clauses]
    return PolicyOut.model_validate(svc.policies.publish_platform(actor, clauses))


@router.get("/moderation/queue", tags=["staff"])
def queue(
    actor: StaffDep,
    svc: ServicesDep,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> QueueOut:
    """Your queue, by priority then age; pass ``next_cursor`` back for the next page."""
    page = svc.cases.queue(actor, limit, cursor)
    return QueueOut(
        cases=[CaseOut.model_validate(c) for c in page.cases], next_cursor=page.next_cursor
    )


@router.post("/moderation/cases", status_code=status.HTTP_201_CREATED, tags=["staff"])
def open_case(body: OwnCaseIn, actor: StaffDep, svc: ServicesDep) -> CaseOut:
    """Open a case on your own initiative (no report)."""
    case = svc.cases.open_case(actor, body.persona_id, body.clause_scope, body.clause_id, body.note)
    return CaseOut.model_validate(case)


@router.get("/moderation/cases/{case_id}", tags=["staff"])
def case(actor: StaffDep, svc: ServicesDep, case_id: str = Path(max_length=64)) -> CaseDetailOut:
    return CaseDetailOut.model_validate(svc.cases.case(actor, case_id))


@router.post("/moderation/cases/{case_id}/assign", tags=["staff"])
def assign(actor: StaffDep, svc: ServicesDep, case_id: str = Path(max_length=64)) -> CaseOut:
    return CaseOut.model_validate(svc.cases.assign(actor, case_id))


@router.post("/moderation/cases/{case_id}/escalate", tags=["staff"])
def escalate(
    body: EscalateIn, actor: StaffDep, svc: ServicesDep, case_id: str = Path(max_length=64)
) -> CaseOut:
    """Hand the case to platform trust & safety."""
    return CaseOut.model_validate(svc.cases.escalate(actor, case_id, body.reason))


@router.post(
    "/moderation/cases/{case_id}/notes", status_code=status.HTTP_201_CREATED, tags=["staff"]
)
def add_note(
    body: NoteIn, actor: StaffDep, svc: ServicesDep, case_id: str = Path(max_length=64)
) -> NoteOut:
    return NoteOut.model_validate(svc.cases.add_note(actor, case_id, body.text, body.visibility))


@router.post(
    "/moderation/cases/{case_id}/decision", status_code=status.HTTP_201_CREATED, tags=["staff"]
)
def decide(
    body: DecisionIn, actor: StaffDep, svc: ServicesDep, case_id: str = Path(max_length=64)
) -> DecisionOut:
    """Decide the case with a full statement of reasons (DSA Art. 17); one decision per case."""
    given = DecisionInput(
        measure=Measure(body.measure),
        scope=Scope(body.scope),
        facts=body.facts,
        citations=tuple(Citation(c.scope, c.clause_id, c.explanation) for c in body.clauses),
        ends_at=body.ends_at,
        starts_at=body.starts_at,
        automated=body.automated,
        appeal_window_days=body.appeal_window_days,
        unfounded_reports=body.unfounded_reports,
    )
    return DecisionOut.model_validate(svc.decisions.decide(actor, case_id, given))


@router.get("/moderation/appeals", tags=["staff"])
def pending_appeals(actor: StaffDep, svc: ServicesDep) -> list[AppealOut]:
    return [AppealOut.model_validate(a) for a in svc.appeals.pending(actor)]


@router.post("/moderation/appeals/{appeal_id}/decision", tags=["staff"])
def decide_appeal(
    body: AppealDecisionIn, actor: StaffDep, svc: ServicesDep, appeal_id: str = Path(max_length=64)
) -> AppealOut:
    """Uphold, reverse or modify; the reviewer who decided the case may not."""
    given = AppealInput(
        AppealOutcome(body.outcome),
        body.reasons,
        Measure(body.measure) if body.measure else None,
        body.ends_at,
    )
    return AppealOut.model_validate(svc.appeals.decide(actor, appeal_id, given))
