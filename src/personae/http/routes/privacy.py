"""Routes of a person's data rights: export (Art. 15/20) and erasure (Art. 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict

from personae.http.deps import PersonDep, ServicesDep

router = APIRouter(prefix="/v1/me", tags=["privacy"])


class ErasureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    requested_at: datetime
    due_at: datetime
    deferred_until: datetime | None
    reason: str | None
    kept_until: datetime | None = None


@router.get("/export")
def export(who: PersonDep, svc: ServicesDep) -> dict[str, Any]:
    """Everything personae holds about you, as JSON."""
    return svc.export.export(who)


@router.post("/erasure", status_code=status.HTTP_202_ACCEPTED)
def request_erasure(who: PersonDep, svc: ServicesDep) -> ErasureOut:
    """Ask to be erased: done after the grace period, unless you cancel; a hold defers it."""
    return ErasureOut.model_validate(svc.erasure.request(who))


@router.get("/erasure")
def erasure_status(who: PersonDep, svc: ServicesDep) -> ErasureOut:
    return ErasureOut.model_validate(svc.erasure.status(who))


@router.delete("/erasure", status_code=status.HTTP_204_NO_CONTENT)
def cancel_erasure(who: PersonDep, svc: ServicesDep) -> Response:
    svc.erasure.cancel(who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
