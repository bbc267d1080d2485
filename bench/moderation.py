"""Moderation at 1,000 and 100,000 open cases: listing a queue and deciding cases.

    python -m bench.moderation [--quick]

Method. For each size a fresh SQLite store gets one world with a published policy,
a world moderator, and N open cases in that world's queue, bulk-loaded as the
service writes them (a persona row, the case with its priority and open key, one
report from the world); severities and ages vary, so the queue has every priority
band. The decided sample's personas also get their data keys, so a decision does
all its work: the statement of reasons, the conditional claim of the case, the
sanction, the strike, the sealed notices and the outbox event (the personas hold
no pass: revoking one is a status-bit write measured in bench/passes.py).

Requests go through the real HTTP app in this process (ASGI, no socket), one at a
time: ``GET /v1/moderation/queue`` for the first page and for pages deep in the
queue (keyset cursors taken from a fixed set of cases spread over the queue, each
page read once as warm-up, as a serving process has its working set cached), and
``POST /v1/moderation/cases/{id}/decision`` (a 7-day suspension) on random open
cases. The anchor is the same measurement at 1,000 cases, in the same run: the
target is p99 at 100,000 <= 1.5 x p99 at 1,000, for both.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from starlette.testclient import TestClient

from bench.common import AGE_GATE_PURPOSES, summary_ms
from personae.bootstrap import Services, build
from personae.config import Settings
from personae.crypto.vault import persona_owner
from personae.domain.moderation import case_priority
from personae.domain.policy import Severity
from personae.domain.staff import Role
from personae.http.app import create_app
from personae.services.moderation import encode_cursor
from personae.store import tables as t
from personae.store.moderation_repo import CaseRecord

PASSWORD = "a benchmark passphrase, not a secret"
CLAUSES = [
    {"id": "harassment", "title": "Harassment", "text": "No insults.", "severity": "medium"},
    {"id": "spam", "title": "Spam", "text": "No spam.", "severity": "low"},
    {"id": "fraud", "title": "Fraud", "text": "No fraud.", "severity": "high"},
    {"id": "threats", "title": "Threats", "text": "No threats.", "severity": "critical"},
]
SEVERITY = {c["id"]: Severity(c["severity"]) for c in CLAUSES}
BATCH = 10_000


def bulk_load(services: Services, world_id: str, count: int, sample: int) -> list[str]:
    """``count`` open cases in the world's queue; returns the ids of ``sample`` of them,
    whose personas are given a data key (a decision seals a notice to the persona)."""
    rng = random.Random(5)
    now = datetime.now(UTC)
    escrow = services.ctx.pseudonyms.seal_link("x" * 32, world_id, "bench")
    cases: list[str] = []
    for start in range(0, count, BATCH):
        persona_rows, case_rows, report_rows = [], [], []
        for n in range(start, min(start + BATCH, count)):
            persona = f"{n:032d}"
            clause = CLAUSES[rng.randrange(len(CLAUSES))]["id"]
            reports = 1 + rng.randrange(5)
            created = now - timedelta(seconds=rng.randrange(90 * 86400))
            case_id = f"case_{n:032x}"
            cases.append(case_id)
            persona_rows.append(
                {"id": persona, "world_id": world_id, "escrow": escrow, "created_at": created}
            )
            case_rows.append(
                {
                    "id": case_id,
                    "world_id": world_id,
                    "persona_id": persona,
                    "clause_scope": world_id,
                    "clause_id": clause,
                    "severity": SEVERITY[clause].value,
                    "source": "report",
                    "status": "open",
                    "priority": case_priority(SEVERITY[clause], reports),
                    "queue": world_id,
                    "open_key": f"{persona}|{world_id}|{clause}",
                    "assignee": None,
                    "report_count": reports,
                    "created_at": created,
                    "escalated_at": None,
                    "decided_at": None,
                }
            )
            report_rows.append(
                {
                    "id": f"rep_{n:032x}",
                    "case_id": case_id,
                    "world_id": world_id,
                    "persona_id": persona,
                    "clause_scope": world_id,
                    "clause_id": clause,
                    "policy_version": 1,
                    "reporter": f"world:{world_id}",
                    "location": "plaza",
                    "explanation": "flagged by the chat filter",
                    "good_faith": True,
                    "credible": True,
                    "unfounded": False,
                    "received_at": created,
                }
            )
        with services.engine.begin() as conn:
            conn.execute(insert(t.personas), persona_rows)
            conn.execute(insert(t.cases), case_rows)
            conn.execute(insert(t.reports), report_rows)
    chosen = rng.sample(cases, sample)
    personas = [f"{int(c.removeprefix('case_'), 16):032d}" for c in chosen]
    services.keystore.create_data_keys([persona_owner(p) for p in personas])
    return chosen


def measure(
    client: TestClient, mod: dict[str, str], cursors: list[str], decide: list[str], lists: int
) -> dict[str, Any]:
    rng = random.Random(9)
    for cursor in cursors:  # warm-up: every page measured below is read once first
        client.get("/v1/moderation/queue", headers=mod, params={"cursor": cursor})
    list_samples = []
    for i in range(lists):
        params = {"limit": 50} if i % 5 == 0 else {"limit": 50, "cursor": rng.choice(cursors)}
        t0 = time.perf_counter()
        response = client.get("/v1/moderation/queue", headers=mod, params=params)
        list_samples.append(time.perf_counter() - t0)
        if response.status_code != 200 or len(response.json()["cases"]) != 50:
            raise RuntimeError(f"bad queue answer {response.status_code}: {response.text[:200]}")
    ends = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body = {
        "measure": "suspension",
        "facts": "insults in voice chat, confirmed",
        "clauses": [{"clause_id": "harassment", "explanation": "insults are harassment"}],
        "ends_at": ends,
    }
    decide_samples = []
    for case_id in decide:
        t0 = time.perf_counter()
        response = client.post(f"/v1/moderation/cases/{case_id}/decision", headers=mod, json=body)
        decide_samples.append(time.perf_counter() - t0)
        if response.status_code != 201:
            raise RuntimeError(f"bad decision {response.status_code}: {response.text[:200]}")
    return {"list": summary_ms(list_samples), "decide": summary_ms(decide_samples)}


def run_size(count: int, lists: int, decisions: int, pages: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="personae-bench-") as tmp:
        services = build(Settings(data_dir=Path(tmp), database_url=None))
        try:
            registered = services.worlds.register_unchecked(
                "Bench World", "ops@bench.example", AGE_GATE_PURPOSES
            )
            world_id = registered.world.id
            services.policies.publish_unchecked(world_id, CLAUSES)
            services.staff.create("bench.mod", PASSWORD, Role.MODERATOR, world_id)
            t0 = time.perf_counter()
            sample = bulk_load(services, world_id, count, decisions + 50)
            load_s = time.perf_counter() - t0
            with services.engine.connect() as conn:
                c = t.cases.c
                # Any case but the last page's: each cursor has a full page after it.
                ordered = conn.execute(
                    select(t.cases).order_by(c.priority, c.created_at, c.id).limit(count - 50)
                ).all()
            spread = random.Random(3).sample(ordered, min(pages, len(ordered)))
            cursors = [encode_cursor(CaseRecord(**r._mapping)) for r in spread]
            with TestClient(create_app(services)) as client:
                session = client.post(
                    "/v1/staff/sessions", json={"username": "bench.mod", "password": PASSWORD}
                ).json()
                mod = {"authorization": f"Bearer {session['token']}"}
                result = measure(client, mod, cursors, sample[:decisions], lists)
            return {"open_cases": count, "load_s": round(load_s, 1), **result}
        finally:
            services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (under 60 s)")
    args = parser.parse_args()
    lists, decisions, pages = (300, 150, 300) if args.quick else (2_000, 600, 2_000)
    small = run_size(1_000, lists, decisions, pages)
    large = run_size(100_000, lists, decisions, pages)
    ratios = {
        kind: round(large[kind]["p99_ms"] / small[kind]["p99_ms"], 3) for kind in ("list", "decide")
    }
    for r in (small, large):
        print(
            f"{r['open_cases']:>7,} open cases: queue page p50 {r['list']['p50_ms']} ms "
            f"p99 {r['list']['p99_ms']} ms; decision p50 {r['decide']['p50_ms']} ms "
            f"p99 {r['decide']['p99_ms']} ms (loaded in {r['load_s']} s)"
        )
    print(
        f"p99 ratio 100k / 1k: queue {ratios['list']}, decision {ratios['decide']} (target <= 1.5)"
    )
    print(
        json.dumps(
            {
                "bench": "moderation",
                "quick": args.quick,
                "sizes": [small, large],
                "p99_ratio_large_over_small": ratios,
                "target_ratio_max": 1.5,
            }
        )
    )


if __name__ == "__main__":
    main()
