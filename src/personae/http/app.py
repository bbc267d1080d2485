"""The FastAPI application factory: routes, problem+json errors, body limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from personae import __version__, web
from personae.bootstrap import Services
from personae.http import problems
from personae.http.limits import BodySizeLimit
from personae.http.routes import lawful, moderation, passes, persons, privacy, system, worlds
from personae.http.routes import log as log_routes
from personae.services.periodic import PeriodicTask
from personae.services.transparency_sequencer import SEQUENCE_INTERVAL_SECONDS
from personae.store.engine import checkpoint_wal
from personae.web.security import SignInLimits


def _lifespan(
    services: Services, sweeper: bool, sequencer: bool = False
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """With ``sweeper``, the retention sweep (and on SQLite the log checkpoints) run
    periodically while the app serves; with ``sequencer``, the transparency log
    sequencer drains the outbox."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        interval = services.settings.retention_sweep_interval_seconds
        task = (
            PeriodicTask("retention-sweep", services.retention.sweep, interval)
            if sweeper and interval
            else None
        )
        logger = (
            PeriodicTask(
                "log-sequencer", services.transparency.sequence_pending, SEQUENCE_INTERVAL_SECONDS
            )
            if sequencer
            else None
        )
        # SQLite's log is checkpointed here, off the requests' path (see checkpoint_wal).
        checkpoints = (
            PeriodicTask("wal-checkpoint", lambda: checkpoint_wal(services.engine), 1.0)
            if sweeper and services.engine.dialect.name == "sqlite"
            else None
        )
        # The pass keys in memory before the first door check, which then needs no thread.
        await run_in_threadpool(services.passes.trusted_keys)
        started = [t for t in (task, logger, checkpoints) if t is not None]
        for periodic in started:
            periodic.start()
        try:
            yield
        finally:
            for periodic in reversed(started):
                periodic.stop()

    return lifespan


def create_app(services: Services, *, sweeper: bool = False, sequencer: bool = False) -> FastAPI:
    """An app bound to one set of services (one database, one keystore).

    ``sweeper`` runs the retention sweep every ``retention_sweep_interval_seconds``
    (and on SQLite checkpoints the write-ahead log every second) while the app
    serves; ``sequencer`` runs the transparency log sequencer
    (``personae serve`` turns both on).
    """
    app = FastAPI(
        lifespan=_lifespan(services, sweeper, sequencer),
        title="personae",
        version=__version__,
        description=(
            "Digital identity for virtual worlds: one person, one identity, an unlinkable "
            "persona per world, attributes disclosed only at the precision a world needs."
        ),
    )
    app.state.services = services
    # One sign-in limiter for the process: the API's sign-ins and the pages share its buckets.
    app.state.sign_in_limits = SignInLimits()
    problems.install(app)
    app.include_router(system.router)
    # Routes match in order: the world API's door checks, the busiest route, come first.
    app.include_router(passes.router)
    app.include_router(persons.router)
    app.include_router(worlds.router)
    app.include_router(lawful.router)
    app.include_router(privacy.router)
    app.include_router(moderation.router)
    app.include_router(log_routes.router)
    web.mount(app, services)  # the pages (personae.web), on the same services
    app.add_middleware(BodySizeLimit, max_bytes=services.settings.max_body_bytes)
    return app
