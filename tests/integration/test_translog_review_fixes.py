"""Review fixes of the transparency log, on SQLite and PostgreSQL: the report's date bounds,
the report read once per entry, and commitment salts that an erasure racing the sequencer
leaves behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text
from starlette.testclient import TestClient
from tests.conftest import PG_URL

from personae.bootstrap import Services
from personae.domain.events import Event, EventType
from personae.services.transparency import TransparencyService, forget_personas
from personae.store import tables as t
from personae.store.translog_repo import TranslogRepo
from personae.translog.leaves import decode_entry, prepare_leaves
from personae.translog.merkle import CompactRange
from personae.translog.report import ReportIndex, build_report

PERSONA = "PERSONAQXZ4K7M2WB6R3TY5NC8D"


def _append(services: Services, count: int, persona: str | None = None) -> list[int]:
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        return [
            repo.append_event(
                Event(EventType.DECISION_MADE, now, {"measure": "ban", "automated": i % 2 == 0}),
                persona,
            )
            for i in range(count)
        ]


def _all_entries(services: Services) -> list[dict[str, Any]]:
    size = services.transparency.checkpoint().size
    with services.engine.connect() as conn:
        return [decode_entry(data) for _, data in TranslogRepo(conn).entries(0, size)]


# -- 1. the report's date parameters ---------------------------------------------------


@pytest.mark.parametrize(
    ("params", "counted"),
    [
        ({"to": "9999-12-31"}, 3),
        ({"from": "9999-12-31"}, 0),
        ({"from": "9999-12-31", "to": "9999-12-31"}, 0),
        ({"from": "0001-01-01"}, 3),
        ({"from": "0001-01-01", "to": "0001-01-01"}, 0),
        ({"from": "0001-01-01", "to": "9999-12-31"}, 3),
    ],
)
def test_the_report_answers_for_the_first_and_last_representable_days(
    client: TestClient, services: Services, params: dict[str, str], counted: int
) -> None:
    _append(services, 3)
    services.transparency.sequence_pending()
    response = client.get("/v1/transparency/report", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["entries"] == counted and body["checkpoint"]["size"] == 3
    assert (body["start"], body["end"]) == (params.get("from"), params.get("to"))


def test_past_the_calendar_the_report_answers_422_never_500(
    client: TestClient, services: Services
) -> None:
    _append(services, 1)
    services.transparency.sequence_pending()
    for params in ({"to": "10000-01-01"}, {"from": "253402300800"}, {"to": "1e20"}):
        response = client.get("/v1/transparency/report", params=params)
        assert response.status_code == 422, (params, response.text)


# -- 2. each entry read once per process -------------------------------------------------


class _Reads:
    """Counts the entry reads of ``TranslogRepo.entries`` and the merges of the index."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entries: list[tuple[int, int]] = []
        self.merges = 0
        entries, report = TranslogRepo.entries, ReportIndex.report

        def counted_entries(repo: TranslogRepo, start: int, end: int) -> list[tuple[int, bytes]]:
            self.entries.append((start, end))
            return entries(repo, start, end)

        def counted_report(index: ReportIndex, start: date | None, end: date | None) -> Any:
            self.merges += 1
            return report(index, start, end)

        monkeypatch.setattr(TranslogRepo, "entries", counted_entries)
        monkeypatch.setattr(ReportIndex, "report", counted_report)

    def take(self) -> tuple[list[tuple[int, int]], int]:
        seen = (self.entries, self.merges)
        self.entries, self.merges = [], 0
        return seen


def test_a_repeated_report_reads_no_entry_and_a_grown_log_only_the_new_ones(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(services, 7)
    services.transparency.sequence_pending(batch_size=3)
    reads = _Reads(monkeypatch)
    day = services.ctx.clock.now().date().isoformat()
    first = client.get("/v1/transparency/report", params={"from": day, "to": day}).json()
    assert reads.take() == ([(0, 7)], 1)

    again = client.get("/v1/transparency/report", params={"from": day, "to": day}).json()
    assert again == first
    assert reads.take() == ([], 0)  # the cache: no entry read, nothing merged

    client.get("/v1/transparency/report")  # another period at the same size
    assert reads.take() == ([], 1)  # the per-day totals: merged, no entry read

    _append(services, 4)
    services.transparency.sequence_pending()
    grown = client.get("/v1/transparency/report", params={"from": day, "to": day}).json()
    assert reads.take() == ([(7, 11)], 1)  # only the entries the new checkpoint added
    assert grown["checkpoint"]["size"] == 11 and grown["entries"] == 11
    reference = build_report(_all_entries(services), date.fromisoformat(day), None)
    assert grown["moderation"] == reference.to_dict()["moderation"]


def test_the_report_cache_is_bounded(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    _append(services, 2)
    services.transparency.sequence_pending()
    svc = TransparencyService(services.ctx, services.engine, "log.example/log", report_cache_size=2)
    today = services.ctx.clock.now().date()
    periods = [(today - timedelta(days=n), None) for n in range(3)]
    reads = _Reads(monkeypatch)
    for start, end in periods:
        svc.report(start, end)
    assert reads.take() == ([(0, 2)], 3)
    svc.report(*periods[2])  # among the last two asked: cached
    assert reads.take() == ([], 0)
    svc.report(*periods[0])  # the oldest was dropped: merged again (entries not re-read)
    assert reads.take() == ([], 1)


def test_a_report_reads_the_log_in_short_chunks(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("personae.services.transparency.AUDIT_CHUNK", 4)
    _append(services, 10)
    services.transparency.sequence_pending()
    reads = _Reads(monkeypatch)
    _, report = services.transparency.report(None, None)
    assert report.entries == 10
    assert reads.take() == ([(0, 4), (4, 8), (8, 10)], 1)


# -- 4. an erasure racing the sequencer ---------------------------------------------------


def _salts(services: Services) -> list[tuple[Any, ...]]:
    with services.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.log_salts.c.leaf_index))]


def _subject(services: Services, index: int) -> str | None:
    entry = services.transparency.entries(index, index + 1)[0][1]
    value = decode_entry(entry).get("subject")
    return value if isinstance(value, str) else None


def test_a_salt_is_stored_only_for_a_subject_row_the_batch_removed(services: Services) -> None:
    """Both databases: ``store_batch`` keeps no salt for a subject row gone since ``pending``."""
    _append(services, 1, persona=PERSONA)
    _append(services, 1, persona="PERSONAOTHER00000000000000")
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        pending = repo.pending(10)
        assert [p.persona_id for p in pending] == [PERSONA, "PERSONAOTHER00000000000000"]
        subjects = t.outbox_subjects
        uow.conn.execute(delete(subjects).where(subjects.c.persona_id == PERSONA))  # erased
        leaves = prepare_leaves(pending, 0)
        repo.store_batch(leaves, CompactRange().extend(leaf.hash for leaf in leaves))
    with services.engine.connect() as conn:
        kept = conn.execute(select(t.log_salts.c.leaf_index, t.log_salts.c.persona_id)).all()
        assert [tuple(r) for r in kept] == [(1, "PERSONAOTHER00000000000000")]
        assert conn.execute(select(t.outbox_subjects.c.event_id)).all() == []


def _erase_in_thread(services: Services) -> tuple[threading.Thread, list[Any], list[int]]:
    """An erasure's purge of PERSONA in its own transaction, on another thread."""
    errors: list[Any] = []
    pid: list[int] = []

    def erase() -> None:
        try:
            with services.ctx.uow() as uow:
                if uow.conn.dialect.name == "postgresql":
                    pid.append(int(uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))
                forget_personas(uow, [PERSONA])
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    return threading.Thread(target=erase), errors, pid


# PostgreSQL only: SQLite admits one writer, so an erasure cannot run inside a
# sequencer batch there (and where PostgreSQL is not configured, nothing to run).
postgresql_only = pytest.mark.parametrize(
    "database_url", ["postgresql"] if PG_URL else [], indirect=True
)


@postgresql_only
def test_an_erasure_committed_between_pending_and_store_leaves_no_salt(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, READ COMMITTED: the sequencer read the subject; the erasure then deleted
    it and committed before the batch stored its salts."""
    _append(services, 1)
    _append(services, 1, persona=PERSONA)
    pending = TranslogRepo.pending
    erasures: list[tuple[threading.Thread, list[Any], list[int]]] = []

    def pending_then_erase(repo: TranslogRepo, limit: int) -> Any:
        found = pending(repo, limit)
        if found and not erasures:
            erasures.append(_erase_in_thread(services))
            erasures[0][0].start()
            erasures[0][0].join(timeout=30)
            assert not erasures[0][0].is_alive(), "the erasure waited on the sequencer"
        return found

    monkeypatch.setattr(TranslogRepo, "pending", pending_then_erase)
    done = services.transparency.sequence_pending()
    assert done.size == 2 and erasures and erasures[0][1] == []
    assert _salts(services) == []
    assert _subject(services, 1) is not None  # logged, as a commitment that names nobody
    with services.ctx.uow(write=False) as uow:
        assert TranslogRepo(uow.conn).salts_for(PERSONA) == []


def _wait_until_blocked(services: Services, pid: list[int], alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    with services.engine.connect() as conn:
        while True:
            if pid:
                waiting = conn.execute(
                    text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": pid[0]},
                ).scalar()
                conn.rollback()
                if waiting == "Lock":
                    return
            assert alive(), "the erasure finished while the sequencer held its rows"
            assert time.monotonic() < deadline, "the erasure never waited on the sequencer"
            time.sleep(0.01)


def test_an_erasure_waiting_on_the_batch_still_deletes_its_salt(services: Services) -> None:
    """The erasure starts after the batch moved the subject to a salt, before it commits.
    PostgreSQL: the erasure waits on the subject row, then (READ COMMITTED) sees the salt.
    SQLite: the erasure waits for the writer lock and runs after the batch."""
    _append(services, 1, persona=PERSONA)
    erasure, errors, pid = _erase_in_thread(services)

    def erase_meanwhile() -> None:
        erasure.start()
        if services.engine.dialect.name == "postgresql":
            _wait_until_blocked(services, pid, erasure.is_alive)

    done = services.transparency.sequence_pending(after_leaves=erase_meanwhile)
    erasure.join(timeout=30)
    assert not erasure.is_alive() and errors == []
    assert done.size == 1 and _subject(services, 0) is not None
    assert _salts(services) == []
