"""Server-rendered pages (Jinja2, htmx vendored) on the same services as the HTTP API."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from personae.bootstrap import Services
from personae.web import (
    account_pages,
    legal_pages,
    person_pages,
    public_pages,
    staff_pages,
    world_pages,
)
from personae.web.security import PageHeaders


def mount(app: FastAPI, services: Services) -> None:
    """Add the pages, their static files and their security headers to ``app``.

    The pages' sign-ins charge ``app.state.sign_in_limits``, made by ``create_app``
    and shared with the API's sign-ins.
    """
    app.include_router(person_pages.router)
    app.include_router(world_pages.router)
    app.include_router(account_pages.router)
    app.include_router(staff_pages.router)
    app.include_router(legal_pages.router)
    app.include_router(public_pages.router)
    static = files("personae.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(PageHeaders)
