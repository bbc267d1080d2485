"""Persona resolution through the world API at 10k and 1M personas; registration vs argon2id.

    python bench/registry.py [--quick]

Method. For each store size a fresh SQLite store is filled by a bulk loader that
writes the rows the service writes when people register and join worlds (persons,
sealed attributes, evidence bindings, personas with their escrowed link, consents,
the personas' sealed value copies, and every data key in the keystore), using the
service's own sealing and pseudonym code, in large transactions. Then a real
`personae serve` process is started on loopback and one keep-alive client asks
for random personas of one world through `GET /v1/worlds/me/personas/{id}`,
sequentially; latencies are wall-clock per request. Each answer also writes the
person's disclosure log, as in production.

Registration is measured over HTTP against the small store with the production
argon2id cost (t=3, m=64 MiB, p=4), beside argon2id alone in this process.

--quick uses 10k and 100k personas (the 1M ratio needs the full run).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy import insert

from bench.common import AGE_GATE_PURPOSES, serve, summary_ms
from personae.bootstrap import Services, build
from personae.config import Settings
from personae.crypto.vault import person_owner, persona_owner
from personae.store import tables as t

WORLDS = 10
ITEMS = ["birth_date@age_over_18", "languages@exact"]

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BATCH = 5_000


def bulk_load(services: Services, personas: int) -> tuple[str, list[str]]:
    """Persons who each joined two worlds; returns (world 0's API key, its persona ids)."""
    worlds = [
        services.worlds.register_unchecked(f"World {i}", f"ops{i}@example.org", AGE_GATE_PURPOSES)
        for i in range(WORLDS)
    ]
    keystore = services.keystore
    vault, pseudonyms = services.ctx.vault, services.ctx.pseudonyms
    password_hash = PasswordHasher().hash("bulk-loaded persons share one hash")
    persons = personas // 2
    rng = random.Random(7)
    world0: list[str] = []
    for start in range(0, persons, BATCH):
        ids = [f"{n:032x}" for n in range(start, min(start + BATCH, persons))]
        person_rows, attr_rows, evidence_rows = [], [], []
        persona_rows, consent_rows, value_rows = [], [], []
        keystore.create_data_keys([person_owner(p) for p in ids])
        links = []
        for n, person_id in enumerate(ids, start):
            values = {
                "birth_date": f"{1950 + n % 50}-0{1 + n % 9}-1{n % 9}",
                "languages": ["en", "fr"],
            }
            person_rows.append(
                {
                    "id": person_id,
                    "handle_hash": pseudonyms.lookup("handle", f"user{n}"),
                    "password_hash": password_hash,
                    "assurance": "IAL1",
                    "evidence": "self_asserted",
                    "status": "active",
                    "created_at": NOW,
                }
            )
            evidence_rows.append(
                {
                    "evidence_hash": pseudonyms.lookup("evidence", "self", f"user{n}"),
                    "person_id": person_id,
                    "kind": "self_asserted",
                    "created_at": NOW,
                }
            )
            for name, sealed in vault.seal(person_owner(person_id), values).items():
                attr_rows.append(
                    {
                        "person_id": person_id,
                        "name": name,
                        "sealed": sealed,
                        "evidence": "self_asserted",
                        "updated_at": NOW,
                    }
                )
            for w in (worlds[n % WORLDS], worlds[(n + 1 + rng.randrange(WORLDS - 1)) % WORLDS]):
                pid = pseudonyms.persona_id(w.world.id, person_id)
                links.append((pid, w.world.id, person_id, values))
                if w is worlds[0]:
                    world0.append(pid)
        keystore.create_data_keys([persona_owner(pid) for pid, *_ in links])
        for pid, world_id, person_id, values in links:
            persona_rows.append(
                {
                    "id": pid,
                    "world_id": world_id,
                    "created_at": NOW,
                    "escrow": pseudonyms.seal_link(pid, world_id, person_id),
                }
            )
            consent_rows += [
                {"persona_id": pid, "item": i, "granted_at": NOW, "withdrawn_at": None}
                for i in ITEMS
            ]
            for name, sealed in vault.seal(persona_owner(pid), values).items():
                value_rows.append({"persona_id": pid, "attribute": name, "sealed": sealed})
        with services.engine.begin() as conn:
            conn.execute(insert(t.persons), person_rows)
            conn.execute(insert(t.evidence_bindings), evidence_rows)
            conn.execute(insert(t.person_attributes), attr_rows)
            conn.execute(insert(t.personas), persona_rows)
            conn.execute(insert(t.consents), consent_rows)
            conn.execute(insert(t.persona_values), value_rows)
    return worlds[0].api_key, world0


def measure_resolution(base: str, key: str, ids: list[str], requests: int) -> dict[str, float]:
    rng = random.Random(11)
    headers = {"authorization": f"Bearer {key}"}
    latencies = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for pid in rng.sample(ids, min(200, len(ids))):  # warm-up: connections, code paths
            client.get(f"/v1/worlds/me/personas/{pid}").raise_for_status()
        started = time.perf_counter()
        for _ in range(requests):
            pid = ids[rng.randrange(len(ids))]
            t0 = time.perf_counter()
            response = client.get(f"/v1/worlds/me/personas/{pid}")
            latencies.append(time.perf_counter() - t0)
            if (
                response.status_code != 200
                or "birth_date@age_over_18" not in response.json()["items"]
            ):
                raise RuntimeError(f"bad answer {response.status_code}: {response.text}")
        elapsed = time.perf_counter() - started
    return {**summary_ms(latencies), "requests_per_s": round(requests / elapsed, 1)}


def measure_registration(base: str, count: int) -> dict[str, float]:
    hasher = PasswordHasher()  # argon2-cffi defaults: the production cost
    hasher.hash("warm-up: the first 64 MiB allocation is slower")
    t0 = time.perf_counter()
    for i in range(count):
        hasher.hash(f"an argon2 benchmark passphrase {i}")
    argon2_s = (time.perf_counter() - t0) / count
    with httpx.Client(base_url=base, timeout=60) as client:
        t0 = time.perf_counter()
        for i in range(count):
            response = client.post(
                "/v1/persons",
                json={
                    "handle": f"bench{i}",
                    "password": f"a benchmark passphrase {i}",
                    "attributes": {"birth_date": "1990-01-01", "languages": ["en"]},
                },
            )
            if response.status_code != 201:
                raise RuntimeError(response.text)
        register_s = (time.perf_counter() - t0) / count
    return {
        "registrations_per_s": round(1 / register_s, 2),
        "argon2id_hashes_per_s": round(1 / argon2_s, 2),
        "registration_over_argon2id": round(register_s / argon2_s, 2),
    }


def run_size(personas: int, requests: int, register: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="personae-bench-") as tmp:
        data = Path(tmp)
        services = build(Settings(data_dir=data, database_url=None))
        t0 = time.perf_counter()
        key, ids = bulk_load(services, personas)
        load_s = time.perf_counter() - t0
        services.close()
        with serve(data) as base:
            result: dict[str, object] = {
                "personas": personas,
                "load_s": round(load_s, 1),
                "db_mb": round((data / "personae.db").stat().st_size / 1e6, 1),
                **measure_resolution(base, key, ids, requests),
            }
            if register:
                result["registration"] = measure_registration(base, register)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10k and 100k personas, fewer requests"
    )
    args = parser.parse_args()
    small, large = (10_000, 100_000) if args.quick else (10_000, 1_000_000)
    requests = 1_000 if args.quick else 5_000
    results = [
        run_size(small, requests, register=10 if args.quick else 30),
        run_size(large, requests, register=0),
    ]
    for r in results:
        print(
            f"{r['personas']:>9,} personas: p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
            f"{r['requests_per_s']} req/s  (loaded in {r['load_s']} s, {r['db_mb']} MB)"
        )
    reg = results[0]["registration"]
    assert isinstance(reg, dict)
    print(
        f"registration: {reg['registrations_per_s']}/s; "
        f"argon2id alone {reg['argon2id_hashes_per_s']}/s "
        f"(a registration costs {reg['registration_over_argon2id']}x one argon2id hash)"
    )
    ratio = results[1]["p50_ms"] / results[0]["p50_ms"]  # type: ignore[operator]
    print(f"p50 ratio {large:,} / {small:,} personas: {ratio:.2f} (target <= 1.3)")
    print(
        json.dumps(
            {
                "bench": "registry",
                "quick": args.quick,
                "sizes": results,
                "p50_ratio_large_over_small": round(ratio, 3),
                "target_ratio_max": 1.3,
            }
        )
    )


if __name__ == "__main__":
    main()
