"""A process killed mid-erasure or mid-sweep leaves no half-erased person; rerunning finishes it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, bearer, join, register, world

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.vault import person_owner, persona_owner
from personae.domain.retention import RecordClass
from personae.store import tables as t

pytestmark = pytest.mark.slow

# Builds the same services in a child process at a given instant, arms a fault that
# kills the process (SIGKILL: no cleanup, no rollback handlers) at a chosen point,
# then runs the job.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime
    from pathlib import Path
    from personae.bootstrap import build
    from personae.clock import FixedClock
    from personae.config import Settings
    from personae.crypto.vault import Vault
    from personae.store.retention_repo import Sweeps

    data_dir, url, at, fault = sys.argv[1:5]
    services = build(
        Settings(data_dir=Path(data_dir), database_url=url, argon2_time_cost=1,
                 argon2_memory_kib=1024, argon2_parallelism=1),
        clock=FixedClock(datetime.fromisoformat(at)),
    )
    def die(*_a, **_k):
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "erasure":  # after the rows are deleted, before any key is destroyed
        Vault.shred = die
        services.erasure.run_due()
    else:  # after the first batch of a class is committed
        calls = []
        real = Sweeps.delete
        def delete(self, cls, keys):
            calls.append(cls)
            if len(calls) == 2:
                die()
            return real(self, cls, keys)
        Sweeps.delete = delete
        services.retention.sweep(batch_size=1)
    """
)


def run_killed(services: Services, database_url: str, at: str, fault: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(services.settings.data_dir), database_url, at, fault],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -9, proc.stderr.decode()


def test_killed_erasure_is_finished_by_the_next_run(
    services: Services, client: TestClient, clock: FixedClock, database_url: str
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    pid = services.auth.person(alice["authorization"].split()[1]).person_id
    assert client.post("/v1/me/erasure", headers=alice).status_code == 202
    clock.advance(timedelta(days=31))

    run_killed(services, database_url, clock.now().isoformat(), "erasure")

    # Nothing of the person is left in the database; the journal says the job is open.
    with services.engine.connect() as conn:
        assert conn.execute(select(t.persons.c.id)).first() is None
        assert conn.execute(select(t.personas.c.id)).first() is None
        status = conn.execute(select(t.erasure_requests.c.status)).scalars().all()
    assert status == ["erasing"]
    assert services.keystore.has_data_key(person_owner(pid))  # killed before shredding

    assert services.erasure.run_due() == 1
    assert not services.keystore.has_data_key(person_owner(pid))
    assert not services.keystore.has_data_key(persona_owner(persona))
    with services.engine.connect() as conn:
        assert conn.execute(select(t.erasure_requests.c.person_id)).first() is None


def test_killed_sweep_is_finished_by_the_next_run(
    services: Services, client: TestClient, clock: FixedClock, database_url: str
) -> None:
    aurora, key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    for _ in range(4):
        assert client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).is_success
    clock.advance(timedelta(days=400))

    run_killed(services, database_url, clock.now().isoformat(), "sweep")

    # The committed batch (the session) is gone; the killed batch rolled back whole.
    policy = services.retention.policy

    def expired(cls: RecordClass) -> int:
        with services.ctx.uow(write=False) as uow:
            return len(uow.sweeps.expired(cls, policy.cutoff(cls, clock.now()), None, 100))

    assert expired(RecordClass.SESSIONS) == 0
    assert expired(RecordClass.DISCLOSURES) == 4

    report = services.retention.sweep()
    assert report.deleted["disclosures"] == 4
    assert expired(RecordClass.DISCLOSURES) == 0
