"""A WebAuthn challenge is used once, even by two consumers at the same moment."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

from sqlalchemy import text

from personae.bootstrap import Services
from personae.clock import FixedClock


def _blocked_by(services: Services, pid: int) -> bool:
    """Whether some PostgreSQL backend waits on a lock that backend ``pid`` holds."""
    with services.engine.connect() as conn:
        waiting = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
            {"pid": pid},
        ).scalar_one()
    return bool(waiting)


def test_a_challenge_consumed_concurrently_is_given_to_one_consumer(
    services: Services, clock: FixedClock
) -> None:
    """The first consumer deletes the row and holds its transaction open; the second
    reads the row meanwhile and then waits on the first's lock. Only one may get it."""
    now = clock.now()
    challenge = hashlib.sha256(b"a challenge").digest()
    with services.ctx.uow() as uow:
        uow.web_challenges.add(challenge, "register", "person-1", now + timedelta(minutes=5))

    got: dict[str, str | None] = {}
    first_pid: list[int] = []
    first_consumed, release_first = threading.Event(), threading.Event()
    postgres = services.engine.dialect.name == "postgresql"

    def first() -> None:
        with services.ctx.uow() as uow:
            if postgres:
                first_pid.append(uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            got["first"] = uow.web_challenges.consume(challenge, "register", now)
            first_consumed.set()
            release_first.wait(10)

    def second() -> None:
        first_consumed.wait(10)
        with services.ctx.uow() as uow:
            got["second"] = uow.web_challenges.consume(challenge, "register", now)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_consumed.wait(10)
    if postgres:
        deadline = time.monotonic() + 10
        while not _blocked_by(services, first_pid[0]) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _blocked_by(services, first_pid[0]), "the second should wait on the first"
    else:
        time.sleep(0.2)  # SQLite: the second waits for the writer lock
    release_first.set()
    for thread in threads:
        thread.join(20)
    assert got == {"first": "person-1", "second": None}
    with services.ctx.uow() as uow:
        assert uow.web_challenges.consume(challenge, "register", now) is None


def test_a_challenge_is_used_once_and_only_for_its_purpose(
    services: Services, clock: FixedClock
) -> None:
    now = clock.now()
    challenge = hashlib.sha256(b"another challenge").digest()
    expired = hashlib.sha256(b"an old challenge").digest()
    with services.ctx.uow() as uow:
        uow.web_challenges.add(challenge, "sign-in", None, now + timedelta(minutes=5))
        uow.web_challenges.add(expired, "sign-in", None, now - timedelta(seconds=1))
    with services.ctx.uow() as uow:
        assert uow.web_challenges.consume(challenge, "register", now) is None  # other purpose
        assert uow.web_challenges.consume(challenge, "sign-in", now) == ""
        assert uow.web_challenges.consume(challenge, "sign-in", now) is None
        assert uow.web_challenges.consume(expired, "sign-in", now) is None
        assert uow.web_challenges.consume(expired, "sign-in", now) is None  # and it is gone
