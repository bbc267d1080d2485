"""The FastAPI application factory: routes, problem+json errors, body limits."""

from __future__ import annotations

from fastapi import FastAPI

from personae import __version__
from personae.bootstrap import Services
from personae.http import problems
from personae.http.limits import BodySizeLimit
from personae.http.routes import passes, persons, system, worlds


def create_app(services: Services) -> FastAPI:
    """An app bound to one set of services (one database, one keystore)."""
    app = FastAPI(
        title="personae",
        version=__version__,
        description=(
            "Digital identity for virtual worlds: one person, one identity, an unlinkable "
            "persona per world, attributes disclosed only at the precision a world needs."
        ),
    )
    app.state.services = services
    problems.install(app)
    app.include_router(system.router)
    app.include_router(persons.router)
    app.include_router(worlds.router)
    app.include_router(passes.router)
    app.add_middleware(BodySizeLimit, max_bytes=services.settings.max_body_bytes)
    return app
