"""The transparency log: committed appends through the sequencer, and proofs from a stored log,
beside pymerkle 7 (its in-memory tree and its SQLite tree) on the same leaves, same run.

    python -m bench.translog [--quick] [--postgres URL]

Method. Appends: a fresh store's outbox is filled with N accountability events
(moderation decisions with eight payload keys, bulk-inserted, untimed); then the
sequencer drains it as `serve` does, one transaction per batch (entries, leaf and
node rows, events marked logged, a signed checkpoint, commit), and committed
appends/s is N over the wall time of the drain, at batch sizes 100 and 1000. On
PostgreSQL (with --postgres or PERSONAE_TEST_DATABASE_URL) the same runs in a
fresh schema. pymerkle's SQLite tree appends the same entries one per call
(each call one committed transaction, its only way to append one leaf).

Proofs: a stored log of L leaves (1,000,000; 100,000 with --quick) is built
through the sequencer (batches of 10,000), and pymerkle's in-memory and SQLite
trees are built from the very same entry bytes (their roots must equal ours).
Each side answers K random inclusion proofs and K random consistency proofs
against the full tree twice: first from cold caches (a freshly built tree, a
fresh service), then K more of each once warm (both keep caches: ours the
immutable subtree hashes of level >= 5, at most 65,536; pymerkle its subroots
of width >= 128). The 4x target is read on the warm figures. Ours go through
the service call an HTTP handler makes (one pooled connection and one indexed
query per proof; K = 10,000, 3,000 with --quick). Every proof of ours is then
checked by the RFC 9162 verifier against the signed checkpoint's root (old roots
from pymerkle's in-memory tree, an independent implementation); pymerkle's
inclusion proofs too (its path minus the leaf itself), its consistency proofs by
pymerkle's own verifier (they are not RFC 9162 proofs). Finally the full
self-check that `serve` runs at start-up is timed on the stored log.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymerkle
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from personae.bootstrap import Services, build
from personae.config import Settings
from personae.store import tables as t
from personae.store.translog_repo import TranslogRepo
from personae.translog.checkpoint import parse_checkpoint
from personae.translog.merkle import leaf_hash, verify_consistency, verify_inclusion
from personae.translog.verifier import parse_key

NOW = datetime(2026, 11, 26, tzinfo=UTC)
FILL_CHUNK = 20_000


def _event(i: int) -> dict[str, Any]:
    return {
        "type": "moderation.decision_made",
        "occurred_at": NOW,
        "payload": {
            "decision_id": f"dec_{i:016x}",
            "case_id": f"case_{i:016x}",
            "world_id": f"w_{i % 97:012x}",
            "scope": "world",
            "measure": ("warning", "mute", "suspension", "ban")[i % 4],
            "clauses": f"world:{i % 7}.{i % 3}",
            "automated": i % 5 == 0,
            "duration_days": 7,
        },
        "sequenced": False,
    }


def fill_outbox(services: Services, count: int, start: int = 0) -> None:
    for first in range(start, start + count, FILL_CHUNK):
        rows = [_event(i) for i in range(first, min(start + count, first + FILL_CHUNK))]
        with services.engine.begin() as conn:
            conn.execute(insert(t.outbox_events), rows)


@contextmanager
def store(postgres: str | None) -> Iterator[Services]:
    """A fresh store: SQLite in a temporary directory, or a fresh PostgreSQL schema."""
    with tempfile.TemporaryDirectory(prefix="personae-bench-") as tmp:
        if postgres is None:
            services = build(Settings(data_dir=Path(tmp), database_url=None))
            try:
                yield services
            finally:
                services.close()
            return
        schema = "bench_" + secrets.token_hex(4)
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(postgres).update_query_dict({"options": f"-csearch_path={schema}"})
        services = build(
            Settings(data_dir=Path(tmp), database_url=url.render_as_string(hide_password=False))
        )
        try:
            yield services
        finally:
            services.close()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def measure_appends(postgres: str | None, count: int, batch: int) -> float:
    with store(postgres) as services:
        fill_outbox(services, count)
        started = time.perf_counter()
        done = services.transparency.sequence_pending(batch_size=batch)
        elapsed = time.perf_counter() - started
        if done.events != count or done.size != count:
            raise RuntimeError(f"sequenced {done.events} of {count} events")
    return round(count / elapsed, 1)


def pymerkle_committed_appends(entries: list[bytes], directory: Path) -> float:
    tree = pymerkle.SqliteTree(str(directory / "pymerkle-appends.db"))
    started = time.perf_counter()
    for entry in entries:
        tree.append_entry(entry)
    elapsed = time.perf_counter() - started
    tree.close()
    return round(len(entries) / elapsed, 1)


def rate(calls: list[Callable[[], Any]]) -> tuple[float, list[Any]]:
    """Calls per second of running ``calls`` in order; their results."""
    started = time.perf_counter()
    results = [call() for call in calls]
    return round(len(calls) / (time.perf_counter() - started), 1), results


def measure_proofs(
    name: str,
    inclusion: Callable[[int], Any],
    consistency: Callable[[int], Any],
    size: int,
    count: int,
    seed: int,
) -> tuple[dict[str, float], list[tuple[int, Any]], list[tuple[int, Any]]]:
    """Proofs per second against the tree of ``size`` leaves: the first ``count`` of each
    kind from cold caches, then ``count`` more once warm. Returns the proofs made."""
    rng = random.Random(seed)
    figures: dict[str, float] = {}
    made: dict[str, list[tuple[int, Any]]] = {"inclusion": [], "consistency": []}
    for phase in ("cold", "warm"):
        indexes = [rng.randrange(size) for _ in range(count)]
        olds = [rng.randrange(1, size) for _ in range(count)]
        figures[f"inclusion_per_s_{phase}"], inclusions = rate(
            [lambda i=i: inclusion(i) for i in indexes]
        )
        figures[f"consistency_per_s_{phase}"], consistencies = rate(
            [lambda m=m: consistency(m) for m in olds]
        )
        made["inclusion"] += zip(indexes, inclusions, strict=True)
        made["consistency"] += zip(olds, consistencies, strict=True)
    print(
        f"  {name}: {figures['inclusion_per_s_warm']:,.0f} inclusion/s and "
        f"{figures['consistency_per_s_warm']:,.0f} consistency/s warm; "
        f"{figures['inclusion_per_s_cold']:,.0f} and {figures['consistency_per_s_cold']:,.0f} "
        "for the first ones (cold caches)"
    )
    return figures, made["inclusion"], made["consistency"]


def stored_log_run(size: int, proofs: int, pymerkle_appends: int) -> dict[str, Any]:
    with store(None) as services, tempfile.TemporaryDirectory(prefix="pymerkle-") as tmp:
        log = services.transparency
        fill_outbox(services, size)
        started = time.perf_counter()
        log.sequence_pending(batch_size=10_000)
        load_s = time.perf_counter() - started
        key = parse_key(log.public_key().verifier_key)
        head = parse_checkpoint(log.checkpoint().note, key.name, key.public_key)
        with services.engine.connect() as conn:
            entries = [data for _, data in TranslogRepo(conn).entries(0, size)]
        hashes = [leaf_hash(e) for e in entries]

        memory = pymerkle.InmemoryTree()
        for entry in entries:
            memory.append_entry(entry)
        sqlite_tree = pymerkle.SqliteTree(str(Path(tmp) / "pymerkle.db"))
        sqlite_tree.append_entries(entries)
        for tree in (memory, sqlite_tree):
            if tree.get_root() != head.root_hash:
                raise RuntimeError("pymerkle's root differs from the log's on the same leaves")
        committed = pymerkle_committed_appends(entries[:pymerkle_appends], Path(tmp))
        del entries

        print(f"stored log of {size:,} leaves (built through the sequencer in {load_s:.1f} s):")
        ours, incl, cons = measure_proofs(
            "personae (SQLite store)",
            lambda i: log.inclusion_proof(i, size),
            lambda m: log.consistency_proof(m, size),
            size,
            proofs,
            seed=1,
        )
        roots: dict[int, bytes] = {}
        for index, proof in incl:
            assert verify_inclusion(hashes[index], index, size, proof, head.root_hash)
        for old, proof in cons:
            old_root = roots.setdefault(old, memory.get_root(old))
            assert verify_consistency(old, size, old_root, head.root_hash, proof)
        sides = {"personae_sqlite": ours}
        for name, tree in (("pymerkle_memory", memory), ("pymerkle_sqlite", sqlite_tree)):
            figures, incl, cons = measure_proofs(
                name,
                lambda i, tree=tree: tree.prove_inclusion(i + 1, size),
                lambda m, tree=tree: tree.prove_consistency(m, size),
                size,
                proofs,
                seed=1,
            )
            for index, proof in incl:
                assert verify_inclusion(hashes[index], index, size, proof.path[1:], head.root_hash)
            for old, proof in cons:
                pymerkle.verify_consistency(tree.get_root(old), head.root_hash, proof)
            sides[name] = figures
        sqlite_tree.close()
        started = time.perf_counter()
        audit = log.self_check()
        check_s = time.perf_counter() - started
        assert audit.size == size
        return {
            "leaves": size,
            "load_s": round(load_s, 1),
            "proofs": proofs,
            "self_check_s": round(check_s, 2),
            "pymerkle_sqlite_committed_appends_per_s": committed,
            **sides,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k leaves, fewer events and proofs")
    parser.add_argument("--postgres", help="also measure appends on this PostgreSQL database")
    args = parser.parse_args()
    postgres = args.postgres or os.environ.get("PERSONAE_TEST_DATABASE_URL")
    events = 20_000 if args.quick else 100_000
    appends: dict[str, dict[str, float]] = {"sqlite": {}}
    for batch in (100, 1000):
        appends["sqlite"][f"batch_{batch}"] = measure_appends(None, events, batch)
        if postgres:
            appends.setdefault("postgresql", {})[f"batch_{batch}"] = measure_appends(
                postgres, events, batch
            )
    for backend, figures in appends.items():
        print(
            f"committed appends/s on {backend} ({events:,} events): "
            + ", ".join(f"{v:,.0f} ({k})" for k, v in figures.items())
        )
    size = 100_000 if args.quick else 1_000_000
    stored = stored_log_run(
        size,
        proofs=3_000 if args.quick else 10_000,
        pymerkle_appends=2_000 if args.quick else 5_000,
    )
    ours = stored["personae_sqlite"]
    ratios = {
        f"{kind}_{phase}_vs_{other}": round(
            ours[f"{kind}_per_s_{phase}"] / stored[other][f"{kind}_per_s_{phase}"], 2
        )
        for kind in ("inclusion", "consistency")
        for phase in ("warm", "cold")
        for other in ("pymerkle_sqlite", "pymerkle_memory")
    }
    appends_ratio = round(
        appends["sqlite"]["batch_1000"] / stored["pymerkle_sqlite_committed_appends_per_s"], 2
    )
    theirs = stored["pymerkle_sqlite_committed_appends_per_s"]
    print(
        f"pymerkle SQLite tree: {theirs:,.0f} committed appends/s "
        f"(ours at batch 1000: {appends_ratio}x)"
    )
    for name, value in ratios.items():
        print(f"ratio {name}: {value}x")
    print(f"self-check of the {size:,}-leaf log: {stored['self_check_s']} s")
    targets = {"sqlite_appends_per_s_min": 10_000, "inclusion_warm_vs_pymerkle_sqlite_min": 4.0}
    print(
        json.dumps(
            {
                "bench": "translog",
                "quick": args.quick,
                "appends_per_s": appends,
                "appends_events": events,
                "stored": stored,
                "ratios": {**ratios, "appends_vs_pymerkle_sqlite": appends_ratio},
                "targets": targets,
            }
        )
    )


if __name__ == "__main__":
    main()
