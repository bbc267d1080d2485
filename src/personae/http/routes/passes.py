"""Routes of world passes: issue and revoke, issuer keys, status lists, nonces, door checks."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from personae.bootstrap import Services
from personae.http.deps import PersonDep, ServicesDep, WorldDep, world_of
from personae.http.schemas import (
    DoorCheckIn,
    DoorCheckOut,
    IssuedPassOut,
    IssuePassIn,
    NonceOut,
    PassOut,
)
from personae.services.door import DoorAdmission

router = APIRouter(tags=["passes"])

PersonaId = Path(max_length=64)
PassId = Path(max_length=40)


# The world API first: routes match in order, and door checks are the busiest.
@router.post("/v1/worlds/me/nonces", status_code=status.HTTP_201_CREATED, tags=["world API"])
def new_nonce(world: WorldDep, svc: ServicesDep) -> NonceOut:
    """A single-use nonce for the next door check."""
    return NonceOut.model_validate(svc.door.new_nonce(world))


# The hottest route: FastAPI's dependency, body and response-model machinery cost more
# than the check itself (bench/door_online.py), so the world is authenticated, the body
# validated and the answer encoded here, once, with the same models (documented as usual).
# Up to about 16 ms: longer than the interpreter's switch interval (5 ms), after which
# a thread holding the lock gets to run and release it even while the loop is busy.
_PAUSES_FOR_THE_WRITER = (0.0005, 0.001, 0.002, 0.004, 0.008)
_DOOR_CHECK_BODY = {
    "required": True,
    "content": {"application/json": {"schema": DoorCheckIn.model_json_schema()}},
}


@router.post(
    "/v1/worlds/me/door-check",
    tags=["world API"],
    response_model=DoorCheckOut,
    openapi_extra={"requestBody": _DOOR_CHECK_BODY},
)
async def door_check(request: Request) -> Response:
    """Verify a presentation online (for worlds that do not embed personae.verify)."""
    world = await world_of(request)
    svc: Services = request.app.state.services
    try:
        body = DoorCheckIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
        ) from None
    door = svc.door
    # Verified on the event loop (memory only), unless the issuer's keys must be looked
    # up first; the nonce's one statement too when SQLite is free at once (a thread hop
    # costs more than the statement). Another writer of this process holds SQLite's
    # lock for a moment: pause briefly without blocking the loop before handing the
    # statement to the thread pool, where checks would otherwise pile up behind it.
    attempt = door.attempt(world, body.presentation, body.nonce)
    admission: DoorAdmission | None
    if attempt is None:
        admission = await run_in_threadpool(door.door_check, world, body.presentation, body.nonce)
    elif not door.settles_now:  # PostgreSQL: every statement waits on the network
        admission = await run_in_threadpool(door.settle, attempt)
    else:
        admission = door.settle_now(attempt)
        for pause in _PAUSES_FOR_THE_WRITER:
            if admission is not None:
                break
            await asyncio.sleep(pause)
            admission = door.settle_now(attempt)
        if admission is None:
            admission = await run_in_threadpool(door.settle, attempt)
    return Response(orjson.dumps(admission), media_type="application/json")


@router.post("/v1/me/personas/{persona_id}/passes", status_code=status.HTTP_201_CREATED)
def issue_pass(
    body: IssuePassIn, who: PersonDep, svc: ServicesDep, persona_id: str = PersonaId
) -> IssuedPassOut:
    """A world pass for one of your personas, bound to your key; keep it, we do not."""
    return IssuedPassOut.model_validate(svc.passes.issue(who, persona_id, body.holder_jwk))


@router.get("/v1/me/personas/{persona_id}/passes")
def list_passes(who: PersonDep, svc: ServicesDep, persona_id: str = PersonaId) -> list[PassOut]:
    return [PassOut.model_validate(p) for p in svc.passes.passes(who, persona_id)]


@router.delete(
    "/v1/me/personas/{persona_id}/passes/{pass_id}", status_code=status.HTTP_204_NO_CONTENT
)
def revoke_pass(
    who: PersonDep, svc: ServicesDep, persona_id: str = PersonaId, pass_id: str = PassId
) -> Response:
    svc.passes.revoke(who, persona_id, pass_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/.well-known/jwt-vc-issuer")
def issuer_metadata(svc: ServicesDep) -> dict[str, Any]:
    """SD-JWT VC issuer metadata: the issuer and the JWKS its passes verify with."""
    return svc.passes.issuer_metadata()


@router.get("/v1/status-lists/{list_id}", response_class=Response)
def status_list(svc: ServicesDep, list_id: str = Path(max_length=40)) -> Response:
    """A Token Status List (draft-ietf-oauth-status-list) as a signed JWT."""
    token = svc.passes.status_list_token(list_id)
    return Response(
        content=token,
        media_type="application/statuslist+jwt",
        headers={"cache-control": f"max-age={svc.settings.status_list_ttl_seconds}"},
    )
