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
from personae.store.door_path import NonceUse, PassLookup
from personae.store.engine import SQLITE_BUSY_TIMEOUT_MS
from personae.store.moderation_records import SanctionRecord
from personae.store.uow import writer_lock

HOLDER = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def _sqlite(services: Services) -> bool:
    return services.engine.dialect.name == "sqlite"


def _nonce(services: Services, world_id: str) -> bytes:
    return tokens.token_hash(services.door.new_nonce(WorldPrincipal(world_id, "W")).nonce)


def test_a_nonce_is_used_once_by_its_own_world_while_it_lives(
    services: Services, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", AGE_GATE)
    path = services.door.path
    first, second = _nonce(services, aurora), _nonce(services, aurora)
    now = clock.now()

    assert path.use_nonce(first, guild, now).used is False
    assert path.use_nonce(first, aurora, now).used is True
    assert path.use_nonce(first, aurora, now).used is False
    assert path.use_nonce(tokens.token_hash("never issued"), aurora, now).used is False
    later = now + timedelta(seconds=services.settings.door_nonce_ttl_seconds)
    assert path.use_nonce(second, aurora, later).used is False

    # The use is committed: another connection sees it.
    n = t.door_nonces.c
    with services.engine.connect() as conn:
        used = conn.execute(select(n.used_at).where(n.nonce_hash == first))
        assert used.scalar_one() == now


def test_a_caller_that_must_not_wait_is_turned_away_having_changed_nothing(
    services: Services, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    path, digest, now = services.door.path, _nonce(services, aurora), clock.now()
    if not _sqlite(services):
        assert path.settles_now is False  # PostgreSQL always waits on the network
        assert path.use_nonce_now(digest, aurora, now) is None
        assert path.use_nonce(digest, aurora, now).used is True
        return

    assert path.settles_now is True
    lock = writer_lock(services.engine)
    assert lock is not None
    with lock:  # another writer of this process is busy
        assert path.use_nonce_now(digest, aurora, now) is None
    # Another process holding SQLite's write lock: turned away at once, nothing changed.
    database = str(services.engine.url.database)
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert path.use_nonce_now(digest, aurora, now) is None
        assert time.monotonic() - started < 5  # not the 30 s busy timeout
    finally:
        other.execute("ROLLBACK")
    use = path.use_nonce_now(digest, aurora, now)
    assert use is not None and use.used is True  # still unused until now
    # Its statement's transaction is over: another process can write at once.
    other.execute("PRAGMA busy_timeout = 0")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    use = path.use_nonce_now(digest, aurora, now)
    assert use is not None and use.used is False
    # The path's own connection never waits; given back, it waits for locks as usual.
    own = path._own
    assert own is not None
    conn = own.driver_connection
    assert conn is not None
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (0,)
    path.close()
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (SQLITE_BUSY_TIMEOUT_MS,)


def _pass_lookup(services: Services, persona: str) -> PassLookup:
    with services.ctx.uow(write=False) as uow:
        (record,) = uow.passes.for_persona(persona)
    return PassLookup(record.status_list_id, record.status_index, persona)


def test_the_status_read_with_the_nonce_follows_revocation(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    issued = client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": HOLDER}
    ).json()
    lookup = _pass_lookup(services, persona)
    path, now = services.door.path, clock.now()

    assert path.use_nonce(_nonce(services, aurora), aurora, now, lookup).status == 0
    assert client.delete(
        f"/v1/me/personas/{persona}/passes/{issued['pass_id']}", headers=alice
    ).is_success
    assert path.use_nonce(_nonce(services, aurora), aurora, now, lookup).status == 1
    unknown_list = lookup._replace(status_list_id="sl_unknown")
    assert path.use_nonce(_nonce(services, aurora), aurora, now, unknown_list).status is None
    past_the_end = lookup._replace(status_idx=1 << 20)
    assert path.use_nonce(_nonce(services, aurora), aurora, now, past_the_end).status is None
    # Nothing is read for a nonce that cannot be used.
    assert path.use_nonce(b"\0" * 32, aurora, now, lookup) == NonceUse(used=False)


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
def test_the_standing_read_with_the_nonce_agrees_with_the_sanctions_repository(
    services: Services,
    client: TestClient,
    clock: FixedClock,
    starts: int,
    ends: int | None,
    lifted: bool,
    blocks: bool,
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    assert client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": HOLDER}
    ).is_success
    lookup = _pass_lookup(services, persona)
    now, day = clock.now(), timedelta(days=1)
    path = services.door.path
    assert path.use_nonce(_nonce(services, aurora), aurora, now, lookup) == (True, 0, aurora, False)
    if _sqlite(services):  # the path's own connection reads the same in the same statement
        assert path.use_nonce_now(_nonce(services, aurora), aurora, now, lookup) == (
            True,
            0,
            aurora,
            False,
        )
    nobody = lookup._replace(persona_id="P" * 32)
    assert path.use_nonce(_nonce(services, aurora), aurora, now, nobody).world_id is None
    # A persona of another world is read as such (the door then refuses it).
    guild, _ = world(services, "Guild", AGE_GATE)
    elsewhere = join(client, alice, guild, ["birth_date@age_over_18"])
    other = lookup._replace(persona_id=elsewhere)
    assert path.use_nonce(_nonce(services, aurora), aurora, now, other).world_id == guild

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
        in_force = bool(uow.moderation.sanctions.in_force(persona, now, blocking=True))
        refused = ActiveSanctions().refusal(uow, persona, now) is not None
    use = path.use_nonce(_nonce(services, aurora), aurora, now, lookup)
    assert use.used is True and use.world_id == aurora
    assert use.blocked is in_force
    assert use.blocked is (blocks and starts < 0 and (ends is None or ends > 0) and not lifted)
    # No pass is issued while a blocking sanction is in force or yet to begin.
    assert refused is (blocks and (ends is None or ends > 0) and not lifted)


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
