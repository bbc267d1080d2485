"""Request and response bodies of the HTTP API (pydantic), with size and shape limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
