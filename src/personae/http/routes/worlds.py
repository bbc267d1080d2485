"""Routes of worlds: public terms, registration by an admin, and the world API."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, status

from personae.http.deps import ServicesDep, StaffDep, WorldDep
from personae.http.schemas import (
    ResolutionOut,
    SessionOut,
    StaffSignInIn,
    WorldIn,
    WorldOut,
    WorldRegisteredOut,
)
from personae.web.security import TOO_MANY_ATTEMPTS, AccountKind, charge_sign_in

router = APIRouter(prefix="/v1", tags=["worlds"])


@router.get("/worlds/me/personas/{persona_id}", tags=["world API"])
def resolve_persona(
    world: WorldDep, svc: ServicesDep, persona_id: str = Path(max_length=64)
) -> ResolutionOut:
    """The consented items of one of this world's personas, at their precision."""
    return ResolutionOut.model_validate(svc.worlds.resolve(world, persona_id))


@router.get("/worlds")
def list_worlds(svc: ServicesDep) -> list[WorldOut]:
    return [WorldOut.model_validate(w) for w in svc.worlds.list_worlds()]


@router.get("/worlds/{world_id}")
def get_world(svc: ServicesDep, world_id: str = Path(max_length=64)) -> WorldOut:
    """What a world asks of its members, per purpose: the join screen."""
    return WorldOut.model_validate(svc.worlds.get(world_id))


@router.post(
    "/staff/sessions",
    status_code=status.HTTP_201_CREATED,
    tags=["staff"],
    responses=TOO_MANY_ATTEMPTS,
)
def staff_sign_in(body: StaffSignInIn, svc: ServicesDep, request: Request) -> SessionOut:
    """Staff sign-in: password, and the TOTP code of every enrolled account; limited per
    username and per client address, with the pages (429)."""
    charge_sign_in(request, AccountKind.STAFF, body.username)
    session = svc.two_factor.api_sign_in(body.username, body.password, body.code)
    return SessionOut.model_validate(session)


@router.post("/admin/worlds", status_code=status.HTTP_201_CREATED, tags=["staff"])
def register_world(body: WorldIn, actor: StaffDep, svc: ServicesDep) -> WorldRegisteredOut:
    registered = svc.worlds.register(
        actor,
        body.name,
        body.contact,
        [p.model_dump() for p in body.purposes],
        body.pass_ttl_seconds,
    )
    return WorldRegisteredOut(
        world=WorldOut.model_validate(registered.world), api_key=registered.api_key
    )
