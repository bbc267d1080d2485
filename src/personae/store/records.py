"""Plain records the repositories return: rows as typed, immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PersonRecord:
    id: str
    password_hash: str
    assurance: str
    evidence: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class SealedAttribute:
    name: str
    sealed: bytes
    evidence: str
    updated_at: datetime


@dataclass(frozen=True)
class SessionRecord:
    principal_kind: str
    principal_id: str
    expires_at: datetime


@dataclass(frozen=True)
class StaffRecord:
    id: str
    username: str
    password_hash: str
    role: str
    world_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class WorldRecord:
    id: str
    name: str
    contact: str
    purposes: Any
    created_at: datetime


@dataclass(frozen=True)
class PersonaRecord:
    id: str
    world_id: str
    escrow: bytes
    created_at: datetime


@dataclass(frozen=True)
class ConsentRecord:
    persona_id: str
    item: str
    granted_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class DisclosureRecord:
    persona_id: str
    world_id: str
    at: datetime
    items: list[str]


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class StatusListRecord:
    id: str
    world_id: str
    capacity: int
    used: int
    allocated: bytes
    bits: bytes


@dataclass(frozen=True)
class PassRecord:
    id: str
    persona_id: str
    world_id: str
    status_list_id: str
    status_index: int
    holder_kid: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


@dataclass(frozen=True)
class NoticeRecord:
    id: str
    owner: str
    kind: str
    sealed: bytes
    created_at: datetime
    deliver_after: datetime | None
    read_at: datetime | None
    outbox_event_id: int | None
