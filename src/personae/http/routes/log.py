"""Public routes of the transparency log and report: no credentials, nothing personal.

Hashes, leaves and keys are standard base64. Out-of-range requests answer 400
problem+json; parameters that are not integers (or dates) answer 422.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from personae.http.deps import ServicesDep
from personae.services.transparency import MAX_ENTRIES_PAGE

router = APIRouter(prefix="/v1", tags=["transparency log"])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class EntryOut(BaseModel):
    index: int
    leaf: str = Field(description="base64 of the entry's bytes (RFC 8785 JSON)")


class EntriesOut(BaseModel):
    entries: list[EntryOut]


class InclusionOut(BaseModel):
    index: int
    size: int
    hashes: list[str] = Field(description="RFC 9162 inclusion path, base64, bottom-up")


class ConsistencyOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_size: int = Field(alias="from")
    to: int
    hashes: list[str] = Field(description="RFC 9162 consistency proof, base64")


class PublicKeyOut(BaseModel):
    origin: str = Field(description="The checkpoints' origin line, also the key name")
    verifier_key: str = Field(description="C2SP note verifier key: <name>+<key id>+<base64>")
    algorithm: str = "Ed25519"
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    previous_verifier_keys: list[str] = Field(description="keys that signed before, newest first")


@router.get("/log/checkpoint", response_class=PlainTextResponse)
def checkpoint(
    svc: ServicesDep,
    min_size: Annotated[
        int | None,
        Query(description="the oldest checkpoint of at least this many entries instead"),
    ] = None,
) -> PlainTextResponse:
    """The latest checkpoint: a C2SP signed note (origin, size, base64 root, signature).

    With ``min_size``, the oldest stored checkpoint whose tree has at least that many
    entries (every checkpoint is kept; a verifier following a key rotation asks for
    the one the old key signed over the ``key.rotated`` entry).
    """
    return PlainTextResponse(svc.transparency.checkpoint(min_size).note)


@router.get("/log/entries")
def entries(
    svc: ServicesDep,
    start: Annotated[int, Query(description="first index")],
    end: Annotated[int, Query(description=f"one past the last; at most {MAX_ENTRIES_PAGE} a page")],
) -> EntriesOut:
    """Entries ``start <= index < end``; a page holds at most the first 1000 of them."""
    return EntriesOut(
        entries=[
            EntryOut(index=i, leaf=_b64(data)) for i, data in svc.transparency.entries(start, end)
        ]
    )


@router.get("/log/proofs/inclusion")
def inclusion(svc: ServicesDep, index: int, size: int) -> InclusionOut:
    """The inclusion proof of entry ``index`` in the tree of ``size`` entries."""
    proof = svc.transparency.inclusion_proof(index, size)
    return InclusionOut(index=index, size=size, hashes=[_b64(h) for h in proof])


@router.get("/log/proofs/consistency")
def consistency(
    svc: ServicesDep, old: Annotated[int, Query(alias="from")], to: int
) -> ConsistencyOut:
    """The consistency proof from the tree of ``from`` entries to that of ``to`` entries."""
    proof = svc.transparency.consistency_proof(old, to)
    return ConsistencyOut(from_size=old, to=to, hashes=[_b64(h) for h in proof])


@router.get("/log/public-key")
def public_key(svc: ServicesDep) -> PublicKeyOut:
    """The key checkpoints are signed with, as a C2SP verifier key and as raw bytes."""
    key = svc.transparency.public_key()
    return PublicKeyOut(
        origin=key.origin,
        verifier_key=key.verifier_key,
        public_key=_b64(key.public_key),
        previous_verifier_keys=key.previous,
    )


@router.get("/transparency/report", tags=["transparency report"])
def report(
    svc: ServicesDep,
    start: Annotated[date | None, Query(alias="from", description="first day, UTC")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day, inclusive")] = None,
) -> dict[str, Any]:
    """Public numbers computed from log entries alone, and the checkpoint they were computed at."""
    head, figures = svc.transparency.report(start, end)
    return {"checkpoint": {"size": head.size, "root": _b64(head.root_hash)}, **figures.to_dict()}
