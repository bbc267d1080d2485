"""Accountability events: the typed facts services append to the outbox for the transparency log.

An event holds no personal data: no person or persona id, no attribute value, no
name of a person. Each type names the payload keys it may carry, so a service
cannot slip anything else in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

PayloadValue = str | int | bool | None


class EventType(StrEnum):
    PERSON_REGISTERED = "person.registered"
    WORLD_REGISTERED = "world.registered"
    PERSONA_CREATED = "persona.created"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    KEY_ROTATED = "key.rotated"
    REPORT_RECEIVED = "moderation.report_received"
    CASE_ESCALATED = "moderation.case_escalated"
    DECISION_MADE = "moderation.decision_made"
    PLATFORM_SCOPE_OPENED = "moderation.platform_scope_opened"
    APPEAL_DECIDED = "moderation.appeal_decided"
    # lawful access, holds, retention and erasure (#6)
    LAWFUL_REQUEST_RECEIVED = "lawful.request_received"
    LAWFUL_REQUEST_DECIDED = "lawful.request_decided"
    LAWFUL_UNMASKED = "lawful.unmasked"
    LAWFUL_PRODUCED = "lawful.produced"
    LAWFUL_HANDED_OVER = "lawful.handed_over"
    LAWFUL_REQUEST_CLOSED = "lawful.request_closed"
    LAWFUL_EMERGENCY_REVIEWED = "lawful.emergency_reviewed"
    LAWFUL_REVIEW_MISSED = "lawful.review_missed"
    LAWFUL_NONDISCLOSURE_RENEWED = "lawful.nondisclosure_renewed"
    HOLD_CREATED = "hold.created"
    HOLD_EXTENDED = "hold.extended"
    HOLD_ENDED = "hold.ended"
    RETENTION_SWEPT = "retention.swept"
    ERASURE_REQUESTED = "erasure.requested"
    ERASURE_CANCELLED = "erasure.cancelled"
    ERASURE_DEFERRED = "erasure.deferred"
    ERASURE_COMPLETED = "erasure.completed"


ALLOWED_KEYS: dict[EventType, frozenset[str]] = {
    EventType.PERSON_REGISTERED: frozenset({"assurance", "evidence"}),
    EventType.WORLD_REGISTERED: frozenset({"world_id", "purposes", "items"}),
    EventType.PERSONA_CREATED: frozenset({"world_id"}),
    EventType.CONSENT_GRANTED: frozenset({"world_id", "items"}),
    EventType.CONSENT_WITHDRAWN: frozenset({"world_id", "items"}),
    EventType.KEY_ROTATED: frozenset({"key", "old_kid", "new_kid", "rewrapped"}),
    EventType.REPORT_RECEIVED: frozenset({"world_id", "clause_scope", "reporter_kind"}),
    EventType.CASE_ESCALATED: frozenset({"case_id", "world_id"}),
    EventType.DECISION_MADE: frozenset(
        {
            "decision_id",
            "case_id",
            "world_id",
            "scope",
            "measure",
            "clauses",
            "source",
            "automated",
            "duration_days",
            # seconds from the case's opening to this decision (the report's median)
            "handling_seconds",
        }
    ),
    # The escrow of a reported persona opened inside a platform-scope decision.
    EventType.PLATFORM_SCOPE_OPENED: frozenset({"decision_id", "case_id"}),
    EventType.APPEAL_DECIDED: frozenset(
        {"appeal_id", "decision_id", "outcome", "scope", "handling_seconds"}
    ),
    # What the transparency report counts of lawful access: by country
    # (jurisdiction), process type and outcome; accounts specified; holds; unmaskings.
    EventType.LAWFUL_REQUEST_RECEIVED: frozenset({"request_id", "jurisdiction", "process_type"}),
    EventType.LAWFUL_REQUEST_DECIDED: frozenset(
        {"request_id", "jurisdiction", "process_type", "decision", "categories"}
    ),
    EventType.LAWFUL_UNMASKED: frozenset({"request_id", "jurisdiction", "process_type", "purpose"}),
    EventType.LAWFUL_PRODUCED: frozenset(
        {"request_id", "process_type", "categories", "records", "package_sha256"}
    ),
    EventType.LAWFUL_HANDED_OVER: frozenset({"request_id"}),
    EventType.LAWFUL_REQUEST_CLOSED: frozenset(
        {"request_id", "jurisdiction", "process_type", "outcome", "accounts"}
    ),
    EventType.LAWFUL_EMERGENCY_REVIEWED: frozenset({"request_id", "outcome"}),
    EventType.LAWFUL_REVIEW_MISSED: frozenset({"request_id"}),
    EventType.LAWFUL_NONDISCLOSURE_RENEWED: frozenset({"request_id", "days"}),
    EventType.HOLD_CREATED: frozenset({"hold_id", "request_id", "basis", "days"}),
    EventType.HOLD_EXTENDED: frozenset({"hold_id", "basis", "days"}),
    EventType.HOLD_ENDED: frozenset({"hold_id", "basis"}),
    EventType.RETENTION_SWEPT: frozenset(
        {
            "sessions",
            "door_nonces",
            "disclosures",
            "notices",
            "passes",
            "lawful_requests",
            "legal_holds",
            "sanction_guards",
            "moderation",
            "erasures",
            "held_skipped",
        }
    ),
    EventType.ERASURE_REQUESTED: frozenset(),
    EventType.ERASURE_CANCELLED: frozenset(),
    EventType.ERASURE_DEFERRED: frozenset({"days"}),
    EventType.ERASURE_COMPLETED: frozenset({"personas", "guarded"}),
}


@dataclass(frozen=True)
class Event:
    """One accountability fact, with only the payload keys its type allows."""

    type: EventType
    occurred_at: datetime
    payload: dict[str, PayloadValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        extra = set(self.payload) - ALLOWED_KEYS[self.type]
        if extra:
            raise ValueError(f"event {self.type} may not carry {sorted(extra)}")
        for key, value in self.payload.items():
            if not isinstance(value, str | int | bool | None):
                raise ValueError(f"event payload {key!r} must be a scalar")
