"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["system"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:  # no I/O, so no thread-pool hop
    return {"status": "ok"}
