"""SQLite's write-ahead log is checkpointed by the server in the background, not by requests."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, world

from personae.bootstrap import Services
from personae.http.app import create_app
from personae.store.engine import SQLITE_WAL_AUTOCHECKPOINT_PAGES, checkpoint_wal


def _sqlite(services: Services) -> bool:
    return services.engine.dialect.name == "sqlite"


def test_a_checkpoint_copies_the_whole_log_back(services: Services) -> None:
    world(services, "Aurora", AGE_GATE)  # some writes
    done = checkpoint_wal(services.engine)
    if not _sqlite(services):
        assert done is None  # PostgreSQL keeps its own log
        return
    assert done is not None
    in_log, copied = done
    assert in_log > 0 and copied == in_log
    # Connections leave the checkpoints to the server unless the log grows large.
    with services.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert pages == SQLITE_WAL_AUTOCHECKPOINT_PAGES


def _checkpointing() -> bool:
    return any(thread.name == "wal-checkpoint" for thread in threading.enumerate())


def test_the_serving_app_checkpoints_sqlite_while_it_serves(services: Services) -> None:
    assert not _checkpointing()
    with TestClient(create_app(services, sweeper=True)) as client:
        assert client.get("/healthz").status_code == 200
        assert _checkpointing() is _sqlite(services)
        if _sqlite(services):
            # Writes go to the log; only a checkpoint writes the database file itself.
            database = Path(str(services.engine.url.database))
            checkpoint_wal(services.engine)
            before = database.stat().st_mtime_ns
            world(services, "Aurora", AGE_GATE)
            deadline = time.monotonic() + 10
            while database.stat().st_mtime_ns == before:
                assert time.monotonic() < deadline, "no checkpoint within 10 s"
                time.sleep(0.05)
    assert not _checkpointing()
    with TestClient(create_app(services)):  # an app that does not sweep leaves it be
        assert not _checkpointing()
