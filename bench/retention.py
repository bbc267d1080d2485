"""Retention sweep throughput, 1% of expired records held; erasure of a person with 100 personas.

    python -m bench.retention [--quick]

Method. Sweep: a fresh store gets N expired disclosure-log rows (bulk insert)
spread over N/10 personas, and one active legal hold whose subjects are the
personas of 1% of the rows. The clock is moved past the disclosure period and
`RetentionService.sweep()` runs with the configured batch size (5,000 rows per
transaction, held rows filtered by keyed hash). Its anchor, measured in the
same run on an identical second table, is one plain `DELETE ... WHERE at < cutoff`
with no hold check and no batching: the floor for deleting the same rows. Runs on
SQLite, and on PostgreSQL when PERSONAE_TEST_DATABASE_URL is set (own schema).

Erasure: one person registers, joins 100 worlds, asks to be erased; after the
grace period `ErasureService.erase()` is timed (rows deleted in one transaction,
100 passes-worth of persona rows, 101 data keys destroyed). Anchor: the mean
latency of one of the same person's 100 joins.

--quick uses 100,000 expired records instead of 1,000,000 and 3 erased persons
instead of 5.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url

from bench.common import summary_ms
from personae.bootstrap import Services, build
from personae.clock import FixedClock
from personae.config import Settings
from personae.crypto.vault import persona_owner
from personae.domain.persons import EvidenceKind
from personae.services.auth import PersonPrincipal
from personae.services.registry import Registration
from personae.store import tables as t

# The anchor's table: the disclosure log's columns, for one plain DELETE.
PLAIN = Table(
    "bench_plain_disclosures",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("persona_id", String(32), nullable=False),
    Column("world_id", String(40), nullable=False),
    Column("at", t.UTCDateTime, nullable=False),
    Column("items", JSON, nullable=False),
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 50_000
PURPOSES = [
    {
        "name": "age gate",
        "description": "adults only",
        "items": [{"item": "birth_date@age_over_18", "required": True, "why": "adults"}],
    }
]


def settings(data: Path, url: str | None) -> Settings:
    return Settings(
        data_dir=data,
        database_url=url,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
    )


def load_expired(services: Services, records: int) -> int:
    """Expired disclosure rows over records/10 personas, and a hold on 1% of the rows."""
    personas = [f"p{n:031d}" for n in range(max(1, records // 10))]
    held = personas[: max(1, len(personas) // 100)]
    rows_held = 0
    at = NOW - timedelta(days=400)
    for start in range(0, records, BATCH):
        rows = [
            {"persona_id": personas[n % len(personas)], "world_id": "w", "at": at, "items": ["x"]}
            for n in range(start, min(start + BATCH, records))
        ]
        rows_held += sum(r["persona_id"] in set(held) for r in rows)
        with services.engine.begin() as conn:
            conn.execute(insert(t.disclosures), rows)
            conn.execute(insert(PLAIN), rows)
    lookup = services.ctx.pseudonyms.lookup
    with services.engine.begin() as conn:
        conn.execute(
            insert(t.legal_holds).values(
                id="hold_bench",
                request_id=None,
                basis="litigation",
                scope="persona",
                world_id="w",
                persona_id=held[0],
                created_by="bench",
                created_at=NOW,
                ends_at=NOW + timedelta(days=90),
                extensions=0,
                ended_at=None,
            )
        )
        conn.execute(
            insert(t.hold_subjects),
            [
                {"hold_id": "hold_bench", "subject_hash": lookup("held", persona_owner(p))}
                for p in held
            ],
        )
    return rows_held


def measure_sweep(url: str | None, records: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="personae-bench-") as tmp:
        services = build(settings(Path(tmp), url), clock=FixedClock(NOW))
        try:
            with services.engine.begin() as conn:
                PLAIN.create(conn)
            t0 = time.perf_counter()
            held = load_expired(services, records)
            load_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = services.retention.sweep()
            sweep_s = time.perf_counter() - t0
            cutoff = NOW - timedelta(days=365)
            t0 = time.perf_counter()
            with services.engine.begin() as conn:
                conn.execute(delete(PLAIN).where(PLAIN.c.at < cutoff))
            plain_s = time.perf_counter() - t0
            with services.engine.connect() as conn:
                left = conn.execute(select(func.count()).select_from(t.disclosures)).scalar_one()
        finally:
            services.close()
    deleted = report.deleted["disclosures"]
    if left != held or deleted != records - held:
        raise RuntimeError(f"sweep kept {left} rows, {held} held; deleted {deleted}")
    return {
        "backend": "postgresql" if url else "sqlite",
        "records": records,
        "held": held,
        "load_s": round(load_s, 1),
        "sweep_s": round(sweep_s, 2),
        "deleted_per_s": round(deleted / sweep_s),
        "plain_delete_per_s": round(deleted / plain_s),
        "sweep_over_plain": round(sweep_s / plain_s, 2),
    }


def measure_erasure(persons: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="personae-bench-") as tmp:
        clock = FixedClock(NOW)
        services = build(settings(Path(tmp), None), clock=clock)
        try:
            worlds = [
                services.worlds.register_unchecked(f"World {i}", f"o{i}@example.org", PURPOSES)
                for i in range(100)
            ]
            joins: list[float] = []
            erasures: list[float] = []
            for n in range(persons):
                clock.set(NOW)
                session = services.registry.register(
                    Registration(
                        f"person{n}",
                        "a long bench passphrase",
                        EvidenceKind.SELF_ASSERTED,
                        None,
                        {"birth_date": "1990-01-01"},
                    )
                ).session
                who = services.auth.person(session.token)
                for w in worlds:
                    t0 = time.perf_counter()
                    services.registry.join(who, w.world.id, ["birth_date@age_over_18"])
                    joins.append(time.perf_counter() - t0)
                services.erasure.request(PersonPrincipal(who.person_id))
                clock.advance(timedelta(days=31))
                t0 = time.perf_counter()
                if not services.erasure.erase(who.person_id):
                    raise RuntimeError("erasure did not run")
                erasures.append(time.perf_counter() - t0)
        finally:
            services.close()
    return {
        "personas": 100,
        "persons": persons,
        "erasure": summary_ms(erasures),
        "join_mean_ms": round(statistics.fmean(joins) * 1000, 3),
        "erasure_over_join": round(statistics.fmean(erasures) / statistics.fmean(joins), 1),
    }


def pg_schema_url(base: str) -> tuple[str, str]:
    schema = "bench_" + secrets.token_hex(4)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(base: str, schema: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k records, 3 erasures")
    args = parser.parse_args()
    records = 100_000 if args.quick else 1_000_000
    sweeps = [measure_sweep(None, records)]
    pg = os.environ.get("PERSONAE_TEST_DATABASE_URL")
    if pg:
        url, schema = pg_schema_url(pg)
        try:
            sweeps.append(measure_sweep(url, records))
        finally:
            drop_schema(pg, schema)
    erasure = measure_erasure(3 if args.quick else 5)
    if args.quick:
        print(f"quick run: {records:,} expired records (the full run uses 1,000,000)")
    for s in sweeps:
        print(
            f"sweep {s['backend']}: {s['records']:,} expired, {s['held']:,} held: "
            f"{s['deleted_per_s']:,} deleted/s in {s['sweep_s']} s; plain DELETE "
            f"{s['plain_delete_per_s']:,}/s (sweep takes {s['sweep_over_plain']}x)"
        )
    er = erasure["erasure"]
    assert isinstance(er, dict)
    print(
        f"erasure, 100 personas: p50 {er['p50_ms']} ms (mean {er['mean_ms']} ms); "
        f"one join {erasure['join_mean_ms']} ms ({erasure['erasure_over_join']}x)"
    )
    print(
        json.dumps(
            {"bench": "retention", "quick": args.quick, "sweeps": sweeps, "erasure": erasure}
        )
    )


if __name__ == "__main__":
    main()
