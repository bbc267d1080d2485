"""The stored log on SQLite and PostgreSQL: sequencing, proofs, commitments, self-check, locking."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from tests.conftest import make_settings

from personae.bootstrap import Services, build
from personae.domain.events import Event, EventType
from personae.errors import LogIntegrityError
from personae.services.periodic import PeriodicTask
from personae.services.transparency import forget_personas
from personae.store import tables as t
from personae.store.translog_repo import TranslogRepo
from personae.translog.checkpoint import parse_checkpoint
from personae.translog.entries import commitment
from personae.translog.merkle import (
    EMPTY_ROOT,
    consistency_proof_from_leaves,
    inclusion_proof_from_leaves,
    leaf_hash,
    root,
)
from personae.translog.verifier import parse_key

PERSONA = "PERSONAQXZ4K7M2WB6R3TY5NC8D"


def append(services: Services, count: int, persona: str | None = None, start: int = 0) -> list[int]:
    """Append ``count`` world.registered events to the outbox; their outbox ids."""
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        return [
            repo.append_event(
                Event(EventType.WORLD_REGISTERED, now, {"world_id": f"w_{start + i}"}), persona
            )
            for i in range(count)
        ]


def rows(services: Services, table: Any, *columns: str) -> list[tuple[Any, ...]]:
    with services.engine.connect() as conn:
        cols = [table.c[c] for c in columns]
        return [tuple(r) for r in conn.execute(select(*cols).order_by(*cols))]


def change(services: Services, statement: Any) -> None:
    with services.engine.begin() as conn:
        conn.execute(statement)


def leaf_hashes(services: Services) -> list[bytes]:
    return [bytes(h) for (_, h) in rows(services, t.log_leaves, "leaf_index", "leaf_hash")]


def test_sequencing_logs_every_event_once_one_checkpoint_per_batch(services: Services) -> None:
    ids = append(services, 23)
    done = services.transparency.sequence_pending(batch_size=10)
    assert (done.events, done.batches, done.size) == (23, 3, 23)
    leaves = rows(services, t.log_leaves, "leaf_index", "event_id")
    assert leaves == list(enumerate(ids))
    assert [s for (s,) in rows(services, t.log_checkpoints, "size")] == [10, 20, 23]
    assert {s for (s,) in rows(services, t.outbox_events, "sequenced")} == {True}
    assert done.root_hash == root(leaf_hashes(services))

    key = services.transparency.public_key()
    verifier = parse_key(key.verifier_key)
    head = services.transparency.checkpoint()
    signed = parse_checkpoint(head.note, verifier.name, verifier.public_key, origin=key.origin)
    assert (signed.size, signed.root_hash) == (23, done.root_hash)
    assert key.origin == "127.0.0.1:8000/log"

    again = services.transparency.sequence_pending()
    assert (again.events, again.batches, again.size) == (0, 0, 23)
    assert len(rows(services, t.log_checkpoints, "size")) == 3


def test_an_empty_log_is_checkpointed_at_size_zero(services: Services) -> None:
    done = services.transparency.sequence_pending()
    assert (done.size, done.root_hash) == (0, EMPTY_ROOT)
    assert services.transparency.checkpoint().note.split("\n")[1] == "0"
    assert services.transparency.self_check().size == 0


def test_proofs_from_the_store_equal_the_reference_proofs(services: Services) -> None:
    append(services, 37)
    services.transparency.sequence_pending(batch_size=6)
    hashes = leaf_hashes(services)
    log = services.transparency
    for size in (1, 2, 3, 5, 8, 13, 16, 21, 34, 37):
        for index in range(size):
            assert log.inclusion_proof(index, size) == inclusion_proof_from_leaves(
                hashes[:size], index
            )
        for old in range(size + 1):
            assert log.consistency_proof(old, size) == consistency_proof_from_leaves(
                hashes[:size], old
            )


def test_a_persona_is_logged_as_a_commitment_and_its_salt_kept_apart(services: Services) -> None:
    append(services, 1)
    append(services, 2, persona=PERSONA)
    services.transparency.sequence_pending()
    entries = services.transparency.entries(0, 3)
    assert all(PERSONA.encode() not in data for _, data in entries)
    with services.ctx.uow(write=False) as uow:
        salts = TranslogRepo(uow.conn).salts_for(PERSONA)
    assert [index for index, _ in salts] == [1, 2]
    for (_, salt), (_, data) in zip(salts, entries[1:], strict=True):
        assert json.loads(data)["subject"] == commitment(salt, PERSONA)
    assert "subject" not in json.loads(entries[0][1])
    assert rows(services, t.outbox_subjects, "persona_id") == []

    pending = append(services, 1, persona=PERSONA)
    with services.ctx.uow() as uow:
        assert forget_personas(uow, [PERSONA]) == 3  # two salts, one pending subject
        assert TranslogRepo(uow.conn).salts_for(PERSONA) == []
    services.transparency.sequence_pending()
    with services.ctx.uow(write=False) as uow:
        assert TranslogRepo(uow.conn).leaf_index_of(pending[0]) == 3
    assert "subject" not in json.loads(services.transparency.entries(3, 4)[0][1])
    assert forget_personas in services.erasure.purges


def test_an_event_that_may_not_be_logged_stops_its_batch(services: Services) -> None:
    append(services, 2)
    change(
        services,
        insert(t.outbox_events).values(
            type="person.renamed",
            occurred_at=services.ctx.clock.now(),
            payload={"name": "Alice"},
            sequenced=False,
        ),
    )
    with pytest.raises(LogIntegrityError, match="cannot log outbox event 3 has unknown type"):
        services.transparency.sequence_pending()
    assert rows(services, t.log_leaves, "leaf_index") == []
    assert rows(services, t.log_checkpoints, "size") == []


def _tamper_entry(s: Services) -> None:
    change(s, update(t.log_leaves).where(t.log_leaves.c.leaf_index == 5).values(entry=b"{}"))


def _tamper_leaf(s: Services) -> None:
    forged = b'{"time":"2026-11-26T12:00:00Z","type":"world.registered","world_id":"w_x"}'
    change(
        s,
        update(t.log_leaves)
        .where(t.log_leaves.c.leaf_index == 5)
        .values(entry=forged, leaf_hash=leaf_hash(forged)),
    )


def _tamper_node(s: Services) -> None:
    nodes = t.log_nodes
    change(
        s,
        update(nodes).where(nodes.c.level == 2, nodes.c.node_index == 1).values(hash=bytes(32)),
    )


def _tamper_frontier(s: Services) -> None:
    nodes = t.log_nodes  # 22 leaves: the frontier is (4, 0), (2, 4), (1, 10)
    change(
        s,
        update(nodes).where(nodes.c.level == 1, nodes.c.node_index == 10).values(hash=bytes(32)),
    )


def _tamper_note(s: Services) -> None:
    head = s.transparency.checkpoint()
    origin, size, _root, rest = head.note.split("\n", 3)
    forged = "\n".join([origin, size, "A" * 43 + "=", rest])
    change(s, update(t.log_checkpoints).where(t.log_checkpoints.c.size == 22).values(note=forged))


def _tamper_root(s: Services) -> None:
    cps = t.log_checkpoints
    change(s, update(cps).where(cps.c.size == 22).values(root_hash=bytes(32)))


def _truncate(s: Services) -> None:
    change(s, delete(t.log_leaves).where(t.log_leaves.c.leaf_index == 21))


TAMPERING = {
    "entry": (_tamper_entry, "leaf 5: its entry does not hash to its stored leaf hash", False),
    "leaf": (_tamper_leaf, "stored node 5 at level 0 \\(leaf 5\\) does not match", False),
    "node": (_tamper_node, "stored node 1 at level 2 \\(leaves 4-7\\) does not match", False),
    "frontier": (_tamper_frontier, "node 10 at level 1 \\(leaves 20-21\\) does not match", True),
    "note": (_tamper_note, "does not verify under any log key", True),
    "root": (_tamper_root, "disagrees with its stored size and root", True),
    "truncated": (_truncate, "up to index 20 .* covers 22 \\(first bad index 21\\)", True),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_is_named_by_the_self_check(services: Services, kind: str) -> None:
    tamper, message, head_visible = TAMPERING[kind]
    append(services, 22)
    services.transparency.sequence_pending(batch_size=8)
    assert services.transparency.self_check().size == 22
    nodes = rows(services, t.log_nodes, "level", "node_index")
    tamper(services)
    with pytest.raises(LogIntegrityError, match=message):
        services.transparency.self_check()
    # The sequencer's own O(log n) check sees damage at the head; deeper damage is the
    # full check's (run by `serve` and `log sequence` before they sequence).
    append(services, 1, start=22)
    if head_visible:
        with pytest.raises(LogIntegrityError):
            services.transparency.sequence_pending()
        assert services.transparency.checkpoint().size == 22
        assert rows(services, t.log_nodes, "level", "node_index") == nodes


def test_rows_written_past_the_checkpoint_stop_the_sequencer(services: Services) -> None:
    append(services, 4)
    services.transparency.sequence_pending()
    change(services, insert(t.log_nodes).values(level=0, node_index=4, hash=bytes(32)))
    append(services, 1, start=4)
    with pytest.raises(LogIntegrityError, match="cannot append at index 4"):
        services.transparency.sequence_pending()
    assert services.transparency.checkpoint().size == 4


def test_sequencers_in_two_processes_never_log_an_event_twice(
    services: Services, tmp_path: Path, database_url: str
) -> None:
    other = build(make_settings(tmp_path / "data", database_url), clock=services.ctx.clock)
    try:
        errors: list[BaseException] = []

        def drain(s: Services) -> None:
            try:
                for _ in range(15):
                    s.transparency.sequence_pending(batch_size=3)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        def produce() -> None:
            for i in range(15):
                append(services, 4, start=4 * i)

        threads = [
            threading.Thread(target=produce),
            threading.Thread(target=drain, args=(services,)),
            threading.Thread(target=drain, args=(other,)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        other.transparency.sequence_pending()
    finally:
        other.close()
    leaves = rows(services, t.log_leaves, "leaf_index", "event_id")
    assert [i for i, _ in leaves] == list(range(60))
    assert sorted(e for _, e in leaves) == list(range(1, 61))
    assert services.transparency.self_check().size == 60


def test_a_rotated_log_key_is_logged_under_the_old_key_and_signs_from_then_on(
    services: Services,
) -> None:
    append(services, 3)
    services.transparency.sequence_pending()
    before = services.transparency.public_key()
    rotation = services.transparency.rotate_log_key()
    after = services.transparency.public_key()
    assert rotation.size == 4 and rotation.verifier_key == after.verifier_key
    assert after.previous == [before.verifier_key]
    entry = json.loads(services.transparency.entries(3, 4)[0][1])
    assert entry["type"] == "key.rotated"
    assert (entry["key"], entry["old_kid"], entry["new_kid"]) == (
        "log",
        rotation.old_kid,
        rotation.new_kid,
    )
    # The checkpoint over the key.rotated entry is the old key's, countersigned by the new.
    note = services.transparency.checkpoint().note
    new, old = parse_key(after.verifier_key), parse_key(before.verifier_key)
    assert parse_checkpoint(note, old.name, old.public_key).size == 4
    assert parse_checkpoint(note, new.name, new.public_key).size == 4
    assert services.transparency.self_check().size == 4
    append(services, 1, start=3)
    services.transparency.sequence_pending()
    note = services.transparency.checkpoint().note
    assert parse_checkpoint(note, new.name, new.public_key).size == 5
    with pytest.raises(ValueError, match="no signature"):
        parse_checkpoint(note, old.name, old.public_key)
    assert services.transparency.self_check().size == 5


def test_the_report_counts_logged_events_at_a_named_checkpoint(services: Services) -> None:
    now = services.ctx.clock.now()
    decision = {"decision_id": "dec_1", "case_id": "c_1", "world_id": "w_1", "measure": "ban"}
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        repo.append_event(Event(EventType.DECISION_MADE, now, {**decision, "automated": True}))
        repo.append_event(Event(EventType.APPEAL_DECIDED, now, {"outcome": "reversed"}), PERSONA)
        repo.append_event(Event(EventType.HOLD_CREATED, now, {"hold_id": "h_1", "basis": "x"}))
    services.transparency.sequence_pending()
    head, report = services.transparency.report(now.date(), now.date())
    assert head.size == 3
    assert report.moderation.by_measure == {"ban": 1} and report.moderation.automated == 1
    assert report.appeals.reversals == 1
    assert report.legal_holds.placed == 1
    _, later = services.transparency.report(now.date().replace(year=2027), None)
    assert later.entries == 0


def test_the_background_sequencer_drains_until_stopped(services: Services) -> None:
    append(services, 5)
    task = PeriodicTask("log-sequencer", services.transparency.sequence_pending, interval=0.05)
    task.start()
    try:
        deadline = time.monotonic() + 30
        while len(rows(services, t.log_leaves, "leaf_index")) < 5:
            assert time.monotonic() < deadline, "the sequencer did not run"
            time.sleep(0.02)
        append(services, 2, start=5)
        while len(rows(services, t.log_leaves, "leaf_index")) < 7:
            assert time.monotonic() < deadline, "the sequencer stopped draining"
            time.sleep(0.02)
    finally:
        task.stop()
    assert task.failures == 0 and task.runs >= 2


def test_the_background_sequencer_refuses_a_damaged_log(services: Services) -> None:
    append(services, 4)
    services.transparency.sequence_pending()
    _tamper_root_at(services, 4)
    append(services, 1, start=4)
    task = PeriodicTask("log-sequencer", services.transparency.sequence_pending, interval=0.05)
    task.start()
    try:
        deadline = time.monotonic() + 30
        while task.failures < 2:
            assert time.monotonic() < deadline, "the sequencer did not run"
            time.sleep(0.02)
    finally:
        task.stop()
    assert len(rows(services, t.log_leaves, "leaf_index")) == 4


def _tamper_root_at(s: Services, size: int) -> None:
    cps = t.log_checkpoints
    change(s, update(cps).where(cps.c.size == size).values(root_hash=bytes(32)))


def test_counting_helpers_read_the_store(services: Services) -> None:
    append(services, 3)
    services.transparency.sequence_pending()
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.log_nodes)).scalar_one() == 4
        repo = TranslogRepo(conn)
        assert repo.leaf_count() == 3
        assert repo.leaf_index_of(999) is None


def test_a_proof_falls_back_to_its_exact_nodes_and_names_one_that_is_gone(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(services, 13)
    services.transparency.sequence_pending()
    hashes = leaf_hashes(services)
    monkeypatch.setattr("personae.services.transparency.inclusion_candidates", lambda i, n: [])
    monkeypatch.setattr("personae.services.transparency.consistency_candidates", lambda m, n: [])
    assert services.transparency.inclusion_proof(6, 13) == inclusion_proof_from_leaves(hashes, 6)
    assert services.transparency.consistency_proof(5, 13) == consistency_proof_from_leaves(
        hashes, 5
    )
    nodes = t.log_nodes
    change(services, delete(nodes).where(nodes.c.level == 0, nodes.c.node_index == 7))
    with pytest.raises(LogIntegrityError, match="stored node 7 at level 0 is missing"):
        services.transparency.inclusion_proof(6, 13)
