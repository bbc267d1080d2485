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


ALLOWED_KEYS: dict[EventType, frozenset[str]] = {
    EventType.PERSON_REGISTERED: frozenset({"assurance", "evidence"}),
    EventType.WORLD_REGISTERED: frozenset({"world_id", "purposes", "items"}),
    EventType.PERSONA_CREATED: frozenset({"world_id"}),
    EventType.CONSENT_GRANTED: frozenset({"world_id", "items"}),
    EventType.CONSENT_WITHDRAWN: frozenset({"world_id", "items"}),
    EventType.KEY_ROTATED: frozenset({"key", "old_kid", "new_kid", "rewrapped"}),
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
