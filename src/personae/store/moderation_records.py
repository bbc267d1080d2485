"""Moderation records: the rows the moderation repositories return, as immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PolicyRecord:
    scope: str
    version: int
    clauses: list[dict[str, str]]
    published_at: datetime
    published_by: str


@dataclass(frozen=True)
class ReportRecord:
    id: str
    case_id: str
    world_id: str
    persona_id: str
    clause_scope: str
    clause_id: str
    policy_version: int
    reporter: str
    location: str
    explanation: str
    good_faith: bool
    credible: bool
    unfounded: bool
    received_at: datetime


@dataclass(frozen=True)
class CaseRecord:
    id: str
    world_id: str
    persona_id: str
    clause_scope: str
    clause_id: str
    severity: str
    source: str
    status: str
    priority: int
    queue: str | None
    open_key: str | None
    assignee: str | None
    report_count: int
    created_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None


@dataclass(frozen=True)
class NoteRecord:
    id: str
    case_id: str
    author: str
    visibility: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class DecisionRecord:
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
    decided_by: str
    reviewer_role: str
    reviewer_code: str
    decided_at: datetime
    status: str
    outbox_event_id: int | None


@dataclass(frozen=True)
class SanctionRecord:
    id: str
    persona_id: str
    world_id: str
    decision_ref: bytes
    measure: str
    blocks_passes: bool
    starts_at: datetime
    ends_at: datetime | None
    lifted_at: datetime | None
    platform: bool = False
    """Part of a platform-scope decision (the person may not open new personas meanwhile)."""


@dataclass(frozen=True)
class StrikeRecord:
    id: str
    persona_id: str
    world_id: str
    decision_id: str
    severity: str
    weight: int
    issued_at: datetime
    expires_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True)
class AppealRecord:
    id: str
    decision_id: str
    statement: str
    filed_at: datetime
    status: str
    outcome: str | None
    reasons: str | None
    modified_measure: str | None
    modified_ends_at: datetime | None
    handled_by: str | None
    reviewer_code: str | None
    decided_at: datetime | None
    outbox_event_id: int | None


@dataclass(frozen=True)
class ReporterRecord:
    reporter: str
    unfounded: int
    warned_at: datetime | None
    deprioritised_until: datetime | None


@dataclass(frozen=True)
class QueueCursor:
    """Where the previous page ended: keyset pagination, no OFFSET."""

    priority: int
    created_at: datetime
    case_id: str
