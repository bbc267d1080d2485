"""The online door check's hand-written statements, on both databases, against the repositories."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.conftest import make_settings
from tests.helpers import AGE_GATE, ALICE, join, register, world

from personae.bootstrap import Services, build
from personae.clock import FixedClock
from personae.crypto import tokens
from personae.services.auth import WorldPrincipal
from personae.services.enforcement import ActiveSanctions
from personae.store import tables as t
from personae.store.moderation_records import SanctionRecord
from personae.store.uow import writer_lock

HOLDER = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def _sqlite(services: Services) -> bool:
    return services.engine.dialect.name == "sqlite"


def test_a_nonce_is_used_once_by_its_own_world_while_it_lives(
    services: Services, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", AGE_GATE)
    path = services.door.path
    first = services.door.new_nonce(WorldPrincipal(aurora, "Aurora")).nonce
    second = services.door.new_nonce(WorldPrincipal(aurora, "Aurora")).nonce
    now = clock.now()

    assert path.consume_nonce(tokens.token_hash(first), guild, now) is False
    assert path.consume_nonce(tokens.token_hash(first), aurora, now) is True
    assert path.consume_nonce(tokens.token_hash(first), aurora, now) is False
    assert path.consume_nonce(tokens.token_hash("never issued"), aurora, now) is False
    later = now + timedelta(seconds=services.settings.door_nonce_ttl_seconds)
    assert path.consume_nonce(tokens.token_hash(second), aurora, later) is False

    # The use is committed: another connection sees it.
    n = t.door_nonces.c
    with services.engine.connect() as conn:
        used = conn.execute(select(n.used_at).where(n.nonce_hash == tokens.token_hash(first)))
        assert used.scalar_one() == now


def test_a_caller_that_must_not_wait_is_turned_away_having_changed_nothing(
    services: Services, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    nonce = services.door.new_nonce(WorldPrincipal(aurora, "Aurora")).nonce
    path, digest, now = services.door.path, tokens.token_hash(nonce), clock.now()
    if not _sqlite(services):
        with path.connection(wait=False) as bound:
            assert bound is False  # PostgreSQL always waits on the network
        assert path.consume_nonce(digest, aurora, now) is True
        return

    lock = writer_lock(services.engine)
    assert lock is not None
    with path.connection(wait=False) as bound:
        assert bound is True
        with lock:  # another writer of this process is busy
            assert path.consume_nonce_now(digest, aurora, now) is None
        # The path's own connection serves one caller at a time.
        other: list[bool] = []
        thread = threading.Thread(target=lambda: other.append(_bind_now(services)))
        thread.start()
        thread.join()
        assert other == [False]
    # Another process holding SQLite's write lock: turned away at once, nothing changed.
    other = sqlite3.connect(str(services.engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with path.connection(wait=False):
            started = time.monotonic()
            assert path.consume_nonce_now(digest, aurora, now) is None
            assert time.monotonic() - started < 5  # not the 30 s busy timeout
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert path.consume_nonce(digest, aurora, now) is True  # still unused until now
    with path.connection(wait=False):
        assert path.consume_nonce_now(digest, aurora, now) is False


def _bind_now(services: Services) -> bool:
    with services.door.path.connection(wait=False) as bound:
        return bound


def test_status_bytes_follow_revocation(services: Services, client: TestClient) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    issued = client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": HOLDER}
    ).json()
    with services.ctx.uow(write=False) as uow:
        (record,) = uow.passes.for_persona(persona)
    path = services.door.path
    idx, list_id = record.status_index, record.status_list_id

    assert path.status_byte(list_id, idx) == 0
    assert client.delete(
        f"/v1/me/personas/{persona}/passes/{issued['pass_id']}", headers=alice
    ).is_success
    assert path.status_byte(list_id, idx) == 1 << (idx % 8)
    assert path.status_byte("sl_unknown", idx) is None
    assert path.status_byte(list_id, 1 << 20) is None  # past the list's end


@pytest.mark.parametrize(
    ("starts", "ends", "lifted", "blocks"),
    [
        (-1, None, False, True),  # a ban in force
        (-1, 1, False, True),  # a suspension in force
        (-1, None, True, True),  # lifted
        (-2, -1, False, True),  # ended
        (1, 2, False, True),  # not begun
        (-1, None, False, False),  # a measure that does not block passes
    ],
)
def test_admission_agrees_with_the_sanctions_repository(
    services: Services,
    client: TestClient,
    clock: FixedClock,
    starts: int,
    ends: int | None,
    lifted: bool,
    blocks: bool,
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    persona = join(client, register(client, "alice", ALICE), aurora, ["birth_date@age_over_18"])
    now, day = clock.now(), timedelta(days=1)
    path = services.door.path
    assert path.admission(persona, now) == (aurora, False)
    assert path.admission("P" * 32, now) is None

    with services.ctx.uow() as uow:
        uow.moderation.sanctions.add(
            SanctionRecord(
                tokens.new_id("sn_"),
                persona,
                aurora,
                b"\x01" * 32,
                "suspension" if ends is not None else "ban",
                blocks,
                now + starts * day,
                None if ends is None else now + ends * day,
                now if lifted else None,
            )
        )
    with services.ctx.uow(write=False) as uow:
        refused = ActiveSanctions().refusal(uow, persona, now) is not None
    admission = path.admission(persona, now)
    assert admission is not None
    assert admission.blocked is refused
    in_force = starts < 0 and (ends is None or ends > 0) and not lifted
    assert admission.blocked is (blocks and in_force)


@pytest.fixture
def sqlite_services(tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    """Services on SQLite only: the writer lock below is SQLite's."""
    services = build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'door.db'}"), clock=clock)
    try:
        yield services
    finally:
        services.close()


def test_door_checks_waiting_for_the_writer_hold_no_connection(
    sqlite_services: Services,
) -> None:
    """A door check waits for SQLite's writer lock before it takes a pooled connection,
    as every unit of work does; otherwise waiting door checks could hold every pooled
    connection while the lock's holder waits for one."""
    services = sqlite_services
    lock = writer_lock(services.engine)
    assert lock is not None
    aurora, _ = world(services, "Aurora", AGE_GATE)
    principal = WorldPrincipal(aurora, "Aurora")
    nonces = [services.door.new_nonce(principal).nonce for _ in range(24)]
    outcomes: list[str] = []

    def check(nonce: str) -> None:
        try:
            services.door.door_check(principal, "not-a-presentation~x", nonce)
        except Exception as exc:  # the presentation is refused, after the nonce is used
            outcomes.append(type(exc).__name__)

    with lock:  # a writer of this process is busy
        checks = [threading.Thread(target=check, args=(n,)) for n in nonces]
        for thread in checks:
            thread.start()
        time.sleep(0.3)  # every check is now waiting for the lock
        got: list[bool] = []
        holder = threading.Thread(target=lambda: got.append(_pooled(services)))
        holder.start()
        holder.join(5)
        assert got == [True]  # the lock's holder still gets a connection
    for thread in checks:
        thread.join(10)
    assert outcomes == ["PresentationRejected"] * len(nonces)
    with services.engine.connect() as conn:
        n = t.door_nonces.c
        used = conn.execute(select(n.used_at).where(n.world_id == aurora)).scalars().all()
    assert len(used) == len(nonces) and all(at is not None for at in used)


def _pooled(services: Services) -> bool:
    connection = services.engine.raw_connection()
    connection.close()
    return True
