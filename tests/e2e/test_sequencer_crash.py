"""A sequencer process killed mid-batch: the restart continues with no gap and no duplicate."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from personae.bootstrap import Services
from personae.domain.events import Event, EventType
from personae.store import tables as t
from personae.store.translog_repo import TranslogRepo

pytestmark = pytest.mark.slow

CRASHED = 17  # the exit code of `log sequence --crash-after-leaves`


def _sequence(
    services: Services, database_url: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PERSONAE_DATA_DIR": str(services.settings.data_dir),
        "PERSONAE_DATABASE_URL": database_url,
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "personae.cli.main",
            "log",
            "sequence",
            "--batch-size",
            "10",
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _leaves(services: Services) -> list[tuple[int, int]]:
    leaves = t.log_leaves
    with services.engine.connect() as conn:
        query = select(leaves.c.leaf_index, leaves.c.event_id).order_by(leaves.c.leaf_index)
        return [(int(i), int(e)) for i, e in conn.execute(query)]


def test_a_sequencer_killed_between_leaves_and_checkpoint_recovers(
    services: Services, database_url: str
) -> None:
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        ids = [
            repo.append_event(Event(EventType.WORLD_REGISTERED, now, {"world_id": f"w_{i}"}))
            for i in range(50)
        ]

    crashed = _sequence(services, database_url, "--crash-after-leaves", "3")
    assert crashed.returncode == CRASHED, crashed.stderr
    # Batches 1 and 2 committed; batch 3 wrote its leaves and nodes, then the process
    # died before its checkpoint and commit: none of it remains.
    assert services.transparency.checkpoint().size == 20
    assert _leaves(services) == list(zip(range(20), ids[:20], strict=True))
    with services.ctx.uow(write=False) as uow:
        assert [e.id for e in TranslogRepo(uow.conn).pending(100)] == ids[20:]

    resumed = _sequence(services, database_url)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("logged 30 events in 3 batches; checkpoint at size 50")
    assert _leaves(services) == list(zip(range(50), ids, strict=True))
    assert services.transparency.self_check().size == 50
