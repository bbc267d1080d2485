"""Routes of legal officers: lawful requests (intake to hand-over) and legal holds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from personae.domain.lawful_access import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    Category,
    ProcessType,
    TargetScope,
)
from personae.http.deps import ServicesDep, StaffDep
from personae.services.lawful_access import Intake

router = APIRouter(prefix="/v1/lawful", tags=["lawful access"])

RequestId = Path(max_length=40)
HoldId = Path(max_length=40)
JWS_MEDIA_TYPE = "application/jose"


def _plausible_year(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


# A date of a request: with a time zone (naive is a 422), in a plausible year (no overflow).
When = Annotated[AwareDatetime, AfterValidator(_plausible_year)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetIn(_In):
    world_id: str = Field(max_length=64)
    persona_id: str = Field(max_length=64)
    scope: TargetScope = TargetScope.PERSONA


class IntakeIn(_In):
    authority: str = Field(min_length=1, max_length=200)
    authority_verification: str = Field(
        min_length=1, max_length=500, description="How the authority was verified"
    )
    jurisdiction: str = Field(max_length=8, description="ISO 3166-1 alpha-2")
    process_type: ProcessType
    document_ref: str = Field(min_length=1, max_length=200)
    document_sha256: str = Field(max_length=64, description="SHA-256 of the legal document, hex")
    target: TargetIn
    categories: list[Category] = Field(default_factory=list, max_length=10)
    range_start: When
    range_end: When
    deadline: When
    nondisclosure_until: When | None = None
    justification: str | None = Field(default=None, max_length=4000)


class DecisionIn(_In):
    decision: Literal["approve", "reject"]
    categories: list[Category] | None = Field(default=None, max_length=10)
    reason: str | None = Field(default=None, max_length=2000)


class ReviewIn(_In):
    outcome: Literal["upheld", "objected"]
    reason: str = Field(max_length=2000)


class HandoverIn(_In):
    handover: str = Field(max_length=500, description="How, and to whom, it was handed over")


class RenewalIn(_In):
    document_ref: str = Field(min_length=1, max_length=200)
    document_sha256: str = Field(max_length=64)
    until: When


class HoldIn(_In):
    world_id: str = Field(max_length=64)
    persona_id: str = Field(max_length=64)


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    authority: str
    jurisdiction: str
    process_type: str
    document_ref: str
    document_sha256: str
    target_world_id: str
    target_persona_id: str
    target_scope: str
    categories: list[str]
    range_start: datetime
    range_end: datetime
    nondisclosure_until: datetime | None
    deadline: datetime
    status: str
    intake_by: str
    intake_at: datetime
    decided_by: str | None
    approved_categories: list[str] | None
    decision_reason: str | None
    executed_at: datetime | None
    review_due_at: datetime | None
    review_outcome: str | None
    review_missed: bool
    closed_at: datetime | None
    outcome: str | None


class HoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    request_id: str | None
    basis: str
    scope: str
    world_id: str
    persona_id: str
    created_at: datetime
    ends_at: datetime
    extensions: int
    ended_at: datetime | None


@router.post("/requests", status_code=status.HTTP_201_CREATED)
def intake(body: IntakeIn, actor: StaffDep, svc: ServicesDep) -> RequestOut:
    """Record an authority's request (a legal officer); nothing is produced yet."""
    record = svc.lawful.intake(
        actor,
        Intake(
            authority=body.authority,
            authority_verification=body.authority_verification,
            jurisdiction=body.jurisdiction,
            process_type=body.process_type,
            document_ref=body.document_ref,
            document_sha256=body.document_sha256,
            world_id=body.target.world_id,
            persona_id=body.target.persona_id,
            scope=body.target.scope,
            categories=body.categories,
            range_start=body.range_start,
            range_end=body.range_end,
            deadline=body.deadline,
            nondisclosure_until=body.nondisclosure_until,
            justification=body.justification,
        ),
    )
    return RequestOut.model_validate(record)


@router.get("/requests")
def list_requests(actor: StaffDep, svc: ServicesDep) -> list[RequestOut]:
    return [RequestOut.model_validate(r) for r in svc.lawful.requests(actor)]


@router.get("/requests/{request_id}")
def get_request(actor: StaffDep, svc: ServicesDep, request_id: str = RequestId) -> RequestOut:
    return RequestOut.model_validate(svc.lawful.get(actor, request_id))


@router.post("/requests/{request_id}/decision")
def decide(
    body: DecisionIn, actor: StaffDep, svc: ServicesDep, request_id: str = RequestId
) -> RequestOut:
    """A second officer approves (possibly narrowed, with a reason) or rejects with a reason."""
    record = svc.lawful.decide(
        actor,
        request_id,
        approve=body.decision == "approve",
        categories=body.categories,
        reason=body.reason,
    )
    return RequestOut.model_validate(record)


@router.post("/requests/{request_id}/execute")
def execute(actor: StaffDep, svc: ServicesDep, request_id: str = RequestId) -> RequestOut:
    return RequestOut.model_validate(svc.lawful.execute(actor, request_id))


@router.post("/requests/{request_id}/review")
def review(
    body: ReviewIn, actor: StaffDep, svc: ServicesDep, request_id: str = RequestId
) -> RequestOut:
    record = svc.lawful.review(
        actor, request_id, upheld=body.outcome == "upheld", reason=body.reason
    )
    return RequestOut.model_validate(record)


@router.get("/requests/{request_id}/package")
def package(actor: StaffDep, svc: ServicesDep, request_id: str = RequestId) -> Response:
    """The signed production package (compact JWS), for the officers who agreed to it."""
    return Response(svc.lawful.package(actor, request_id), media_type=JWS_MEDIA_TYPE)


@router.post("/requests/{request_id}/handover")
def hand_over(
    body: HandoverIn, actor: StaffDep, svc: ServicesDep, request_id: str = RequestId
) -> RequestOut:
    return RequestOut.model_validate(svc.lawful.hand_over(actor, request_id, body.handover))


@router.post("/requests/{request_id}/nondisclosure")
def renew_nondisclosure(
    body: RenewalIn, actor: StaffDep, svc: ServicesDep, request_id: str = RequestId
) -> RequestOut:
    record = svc.lawful.renew_nondisclosure(
        actor,
        request_id,
        document_ref=body.document_ref,
        document_sha256=body.document_sha256,
        until=body.until,
    )
    return RequestOut.model_validate(record)


@router.post("/holds", status_code=status.HTTP_201_CREATED)
def litigation_hold(body: HoldIn, actor: StaffDep, svc: ServicesDep) -> HoldOut:
    return HoldOut.model_validate(svc.holds.litigation_hold(actor, body.world_id, body.persona_id))


@router.get("/holds")
def list_holds(actor: StaffDep, svc: ServicesDep) -> list[HoldOut]:
    return [HoldOut.model_validate(h) for h in svc.holds.holds(actor)]


@router.post("/holds/{hold_id}/extend")
def extend_hold(actor: StaffDep, svc: ServicesDep, hold_id: str = HoldId) -> HoldOut:
    return HoldOut.model_validate(svc.holds.extend(actor, hold_id))
