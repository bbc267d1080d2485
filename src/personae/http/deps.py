"""FastAPI dependencies: the services, and the principal behind a bearer credential."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from personae.bootstrap import Services
from personae.errors import NotAuthenticated
from personae.services.auth import PersonPrincipal, StaffPrincipal, WorldPrincipal


# Dependencies that do no I/O are async: FastAPI runs sync ones in its thread
# pool, and a hop per dependency is measurable on every request.
async def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("a bearer credential is required")
    return token.strip()


async def world_of(request: Request) -> WorldPrincipal:
    """The world behind the request's API key (the ``WorldDep`` dependency, callable
    directly from a route that skips dependency injection for speed)."""
    svc: Services = request.app.state.services
    token = await bearer(request)
    # Worlds call on the hottest paths (door checks): a key seen in the last seconds is
    # answered from memory, and only a lookup goes to the thread pool.
    cached = svc.auth.cached_world(token)
    if cached is not None:
        return cached
    return await run_in_threadpool(svc.auth.world, token)


ServicesDep = Annotated[Services, Depends(services)]
BearerDep = Annotated[str, Depends(bearer)]


def person(svc: ServicesDep, token: BearerDep) -> PersonPrincipal:
    return svc.auth.person(token)


def staff(svc: ServicesDep, token: BearerDep) -> StaffPrincipal:
    return svc.auth.staff(token)


PersonDep = Annotated[PersonPrincipal, Depends(person)]
StaffDep = Annotated[StaffPrincipal, Depends(staff)]
WorldDep = Annotated[WorldPrincipal, Depends(world_of)]
