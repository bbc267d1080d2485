"""What use cases return: plain immutable views, free of storage and key material."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AttributeView:
    name: str
    category: str
    value: Any
    evidence: str
    updated_at: datetime


@dataclass(frozen=True)
class Profile:
    assurance: str
    evidence: str
    created_at: datetime
    attributes: list[AttributeView]


@dataclass(frozen=True)
class ConsentView:
    item: str
    granted_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class PersonaView:
    persona_id: str
    world_id: str
    world_name: str
    created_at: datetime
    consents: list[ConsentView]


@dataclass(frozen=True)
class WorldView:
    id: str
    name: str
    contact: str
    purposes: list[dict[str, Any]]
    created_at: datetime


@dataclass(frozen=True)
class DisclosureView:
    persona_id: str
    world_id: str
    world_name: str
    at: datetime
    items: list[str]


@dataclass(frozen=True)
class Resolution:
    """What a world receives about one of its personas."""

    persona_id: str
    items: dict[str, Any]
    withheld: list[str]
