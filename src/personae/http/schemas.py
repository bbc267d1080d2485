"""Request and response bodies of the HTTP API (pydantic), with size and shape limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from personae.domain.moderation import in_range


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- persons ------------------------------------------------------------------


class EvidenceIn(_In):
    kind: Literal["self_asserted", "trusted_issuer"]
    token: str | None = Field(default=None, max_length=8192)


class RegisterIn(_In):
    handle: str = Field(max_length=64, description="Sign-in name, 3-64 of [a-z0-9._-]")
    password: str = Field(max_length=512, description="At least 12 characters")
    evidence: EvidenceIn = Field(default_factory=lambda: EvidenceIn(kind="self_asserted"))
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=50)


class SignInIn(_In):
    handle: str = Field(max_length=64)
    password: str = Field(max_length=512)


class StaffSignInIn(_In):
    username: str = Field(max_length=64)
    password: str = Field(max_length=512)
    code: str | None = Field(
        default=None, max_length=16, description="TOTP code (required once enrolled)"
    )


class SessionOut(_Out):
    token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_at: datetime


class RegisteredOut(BaseModel):
    assurance: str
    session: SessionOut


class AttributeOut(_Out):
    name: str
    category: str
    value: Any
    evidence: str
    updated_at: datetime


class ProfileOut(_Out):
    assurance: str
    evidence: str
    created_at: datetime
    attributes: list[AttributeOut]


class AttributeValueIn(_In):
    value: Any


class JoinIn(_In):
    world_id: str = Field(max_length=64)
    consent: list[str] = Field(
        default_factory=list, max_length=100, description="attribute@precision items"
    )


class ConsentOut(_Out):
    item: str
    granted_at: datetime
    withdrawn_at: datetime | None


class PersonaOut(_Out):
    persona_id: str
    world_id: str
    world_name: str
    created_at: datetime
    consents: list[ConsentOut]


class DisclosureOut(_Out):
    persona_id: str
    world_id: str
    world_name: str
    at: datetime
    items: list[str]


# -- worlds -------------------------------------------------------------------


class RequestedItemIO(_In):
    item: str = Field(max_length=80, description="attribute@precision, e.g. birth_date@age_over_18")
    required: bool = False
    why: str = Field(max_length=500)


class PurposeIO(_In):
    name: str = Field(max_length=64)
    description: str = Field(max_length=500)
    items: list[RequestedItemIO] = Field(max_length=30)


class WorldIn(_In):
    name: str = Field(max_length=100)
    contact: str = Field(max_length=200)
    purposes: list[PurposeIO] = Field(max_length=20)
    pass_ttl_seconds: int | None = Field(
        default=None, description="Validity of this world's passes (default 30 days)"
    )


class WorldOut(_Out):
    id: str
    name: str
    contact: str
    purposes: list[PurposeIO]
    created_at: datetime


class WorldRegisteredOut(BaseModel):
    world: WorldOut
    api_key: str = Field(description="Shown once; personae keeps only its hash.")


class ResolutionOut(_Out):
    persona_id: str
    items: dict[str, Any]
    withheld: list[str]


# -- passes -------------------------------------------------------------------


class IssuePassIn(_In):
    holder_jwk: dict[str, Any] = Field(
        max_length=8, description="The holder's public key (P-256 EC or Ed25519 OKP JWK)"
    )


class IssuedPassOut(_Out):
    pass_id: str
    persona_id: str
    world_id: str
    sd_jwt: str = Field(description="The SD-JWT VC, every claim selectively disclosable")
    claims: list[str]
    issued_at: datetime
    expires_at: datetime


class PassOut(_Out):
    pass_id: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class NonceOut(_Out):
    nonce: str
    expires_at: datetime


class DoorCheckIn(_In):
    presentation: str = Field(max_length=16 * 1024)
    nonce: str = Field(max_length=128)


class DoorCheckOut(_Out):
    persona_id: str
    claims: dict[str, Any]
    expires_at: int


# -- notices ------------------------------------------------------------------


class NoticeOut(_Out):
    id: str
    kind: str
    persona_id: str | None
    created_at: datetime
    read_at: datetime | None
    body: dict[str, Any]
    log_index: int | None = Field(
        description="Index of the transparency-log entry for this act, once it is logged"
    )
    commitment_salt: str | None = Field(
        description="Hex salt: the entry's subject is SHA-256(salt ‖ persona id)"
    )


# -- moderation -----------------------------------------------------------------


class ClauseIO(_In):
    id: str = Field(max_length=40, description="1-40 of [a-z0-9._-]")
    title: str = Field(max_length=200)
    text: str = Field(max_length=4000)
    severity: Literal["low", "medium", "high", "critical"]


class PolicyIn(_In):
    clauses: list[ClauseIO] = Field(max_length=100)


class ClauseOut(_Out):
    id: str
    title: str
    text: str
    severity: str


class PolicyOut(_Out):
    scope: str
    version: int
    published_at: datetime
    clauses: list[ClauseOut]


class ReportIn(_In):
    persona_id: str = Field(max_length=64, description="The persona reported")
    clause_scope: Literal["world", "platform"] = "world"
    clause_id: str = Field(max_length=40, description="The policy clause the conduct breaks")
    location: str = Field(max_length=300, description="Where in the world it happened")
    explanation: str = Field(max_length=4000)
    good_faith: bool = Field(description="I believe this report is accurate and complete")


class PersonReportIn(ReportIn):
    world_id: str = Field(max_length=64)


class ReceiptOut(_Out):
    report_id: str
    received_at: datetime
    clause_scope: str
    clause_id: str
    policy_version: int


class ReportOutcomeOut(_Out):
    report_id: str
    received_at: datetime
    decided: bool
    measure: str | None
    clauses: list[str]
    notes: list[str]


class CaseOut(_Out):
    id: str
    world_id: str
    persona_id: str
    clause_scope: str
    clause_id: str
    severity: str
    source: str
    status: str
    priority: int
    assignee: str | None
    report_count: int
    created_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None


class QueueOut(BaseModel):
    cases: list[CaseOut]
    next_cursor: str | None


class CaseReportOut(_Out):
    id: str
    reporter_kind: str
    location: str
    explanation: str
    received_at: datetime
    credible: bool
    unfounded: bool


class NoteIn(_In):
    text: str = Field(max_length=4000)
    visibility: Literal["internal", "reporter"] = "internal"


class NoteOut(_Out):
    id: str
    author: str
    visibility: str
    text: str
    created_at: datetime


class OwnCaseIn(_In):
    persona_id: str = Field(max_length=64)
    clause_scope: Literal["world", "platform"] = "world"
    clause_id: str = Field(max_length=40)
    note: str = Field(max_length=4000)


class EscalateIn(_In):
    reason: str = Field(max_length=4000)


def _decision_time(value: datetime) -> datetime:
    # The message names the bounds only: never the value given.
    if not in_range(value):
        raise ValueError("a date between the years 1900 and 9000")
    return value


# A time a reviewer sets on a measure: aware, and one the store can hold in UTC.
DecisionTime = Annotated[AwareDatetime, AfterValidator(_decision_time)]


class CitationIn(_In):
    scope: Literal["world", "platform"] = "world"
    clause_id: str = Field(max_length=40)
    explanation: str = Field(max_length=4000)


class DecisionIn(_In):
    measure: Literal["no_action", "warning", "mute", "feature_restriction", "suspension", "ban"]
    scope: Literal["world", "platform"] = "world"
    facts: str = Field(max_length=4000, description="The facts and circumstances relied on")
    clauses: list[CitationIn] = Field(max_length=20)
    starts_at: DecisionTime | None = None
    ends_at: DecisionTime | None = Field(
        default=None, description="After the start and after now; none for an open-ended ban"
    )
    automated: bool = Field(default=False, description="Whether automated means were used")
    appeal_window_days: int = Field(default=183, ge=1, le=3650)
    unfounded_reports: bool = False


class DecisionOut(_Out):
    id: str
    case_id: str
    world_id: str
    persona_id: str
    scope: str
    measure: str
    starts_at: datetime
    ends_at: datetime | None
    facts: str
    source: str
    automated: bool
    citations: list[dict[str, Any]]
    appeal_deadline: datetime
    reviewer_role: str
    reviewer_code: str
    decided_at: datetime
    status: str
    outbox_event_id: int | None


class CaseDetailOut(_Out):
    case: CaseOut
    reports: list[CaseReportOut]
    notes: list[NoteOut]
    decision: DecisionOut | None
    active_strike_weight: int
    suggestion: str | None


class AppealIn(_In):
    statement: str = Field(max_length=4000)


class AppealOut(_Out):
    id: str
    decision_id: str
    statement: str
    filed_at: datetime
    status: str
    outcome: str | None
    reasons: str | None
    modified_measure: str | None
    modified_ends_at: datetime | None
    reviewer_code: str | None
    decided_at: datetime | None


class AppealDecisionIn(_In):
    outcome: Literal["upheld", "reversed", "modified"]
    reasons: str = Field(max_length=4000)
    measure: (
        Literal["no_action", "warning", "mute", "feature_restriction", "suspension", "ban"] | None
    ) = None
    ends_at: DecisionTime | None = None


class LogReferenceOut(_Out):
    outbox_event_id: int | None
    log_index: int | None = Field(description="The entry's index once the log has it")
    commitment_salt: str | None = Field(
        description="Hex salt s: the entry's subject is SHA-256(s ‖ persona id)"
    )


class PersonDecisionOut(_Out):
    decision: DecisionOut
    appeal: AppealOut | None
    decision_log: LogReferenceOut
    appeal_log: LogReferenceOut | None


class MeasureInForceOut(_Out):
    measure: str
    ends_at: datetime | None


class WorldStandingOut(_Out):
    persona_id: str
    tier: str
    measures: list[MeasureInForceOut]


class PersonStandingOut(_Out):
    persona_id: str
    world_id: str
    tier: str
    reasons: list[str]
    measures: list[MeasureInForceOut]
