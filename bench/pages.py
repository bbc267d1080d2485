"""Server-rendered pages under load, beside /healthz on the same server, in the same run.

    python -m bench.pages [--quick]

Method. A store is prepared in-process: a world with a policy, a person with
attributes who joined it, and CASES open moderation cases in the world's queue
(reports from the world on as many personas). A person session and a moderator
session (password and TOTP, as the staff sign-in page makes it) are opened, and
their cookies used as a browser would send them. Then one `personae serve`
process (one uvicorn worker, SQLite) answers, over 20 keep-alive connections on
loopback (bench/load.py, bounded by request count): `GET /healthz` (the anchor),
`GET /` as the signed-in person (their home page: profile, personas, inbox), and
`GET /staff/queue` as the moderator (the first 50 cases). Every answer must be 200.
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from pathlib import Path

from bench.common import serve, summary_ms
from bench.load import Request, run_load
from personae.bootstrap import build
from personae.config import Settings
from personae.domain.persons import EvidenceKind
from personae.domain.staff import Role
from personae.services.auth import WorldPrincipal
from personae.services.registry import Registration
from personae.services.reports import ReportInput
from personae.services.totp import totp
from personae.web.security import SESSION_COOKIE, staff_cookie

PASSWORD = "a long bench passphrase"
CONNECTIONS = 20
PURPOSES = [
    {
        "name": "door",
        "description": "who may enter",
        "items": [
            {"item": "birth_date@age_over_18", "required": True, "why": "adults only"},
            {"item": "languages@exact", "required": False, "why": "rooms"},
        ],
    }
]
CLAUSES = [{"id": "harassment", "title": "Harassment", "text": "Do not.", "severity": "medium"}]


def prepare(data: Path, cases: int) -> tuple[str, str]:
    """The person's and the moderator's session cookies, with ``cases`` open cases queued."""
    services = build(
        Settings(data_dir=data, argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
    )
    try:
        world = services.worlds.register_unchecked("Bench Plaza", "ops@bench.example", PURPOSES)
        services.policies.publish_unchecked(world.world.id, CLAUSES)
        principal = WorldPrincipal(world.world.id, "Bench Plaza")
        person_token = ""
        for n in range(cases):
            done = services.registry.register(
                Registration(
                    f"member{n}",
                    PASSWORD,
                    EvidenceKind.SELF_ASSERTED,
                    None,
                    {"birth_date": "1990-02-03", "languages": ["en", "nl"]},
                )
            )
            who = services.auth.person(done.session.token)
            persona = services.registry.join(
                who, world.world.id, ["birth_date@age_over_18", "languages@exact"]
            ).persona
            services.reports.report_from_world(
                principal,
                ReportInput(persona.persona_id, "world", "harassment", "plaza", "insults", True),
            )
            person_token = person_token or done.session.token
        member = services.staff.create("mod.bench", PASSWORD, Role.MODERATOR, world.world.id)
        text = services.two_factor.enrol(member.id).secret_base32
        secret = base64.b32decode(text + "=" * (-len(text) % 8))
        session = services.two_factor.sign_in("mod.bench", PASSWORD, totp(secret, time.time()))
        return person_token, staff_cookie(services.ctx.pseudonyms, session.token)
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and cases")
    args = parser.parse_args()
    requests = 2_000 if args.quick else 10_000
    cases = 60 if args.quick else 300
    with tempfile.TemporaryDirectory(prefix="personae-pages-") as tmp:
        data = Path(tmp)
        person, moderator = prepare(data, cases)
        with serve(data, {"PERSONAE_RETENTION_SWEEP_INTERVAL_SECONDS": "0"}) as base:
            as_person = (("cookie", f"{SESSION_COOKIE}={person}"),)
            as_moderator = (("cookie", f"{SESSION_COOKIE}={moderator}"),)
            run_load(base, [Request("GET", "/healthz")] * 300, CONNECTIONS)
            run_load(base, [Request("GET", "/", headers=as_person)] * 100, CONNECTIONS)
            healthz = run_load(base, [Request("GET", "/healthz")] * requests, CONNECTIONS)
            home = run_load(base, [Request("GET", "/", headers=as_person)] * requests, CONNECTIONS)
            queue = run_load(
                base, [Request("GET", "/staff/queue", headers=as_moderator)] * requests, CONNECTIONS
            )
    for name, result in (("healthz", healthz), ("home", home), ("queue", queue)):
        if result.statuses != {200: requests}:
            raise RuntimeError(f"{name}: not every answer was 200: {result.statuses}")
    figures = {
        "bench": "pages",
        "quick": args.quick,
        "connections": CONNECTIONS,
        "requests": requests,
        "open_cases": cases,
        "healthz": {"rps": round(healthz.per_second, 1), **summary_ms(healthz.latencies)},
        "person_home": {"rps": round(home.per_second, 1), **summary_ms(home.latencies)},
        "moderation_queue": {"rps": round(queue.per_second, 1), **summary_ms(queue.latencies)},
        "home_to_healthz": round(home.per_second / healthz.per_second, 3),
        "queue_to_healthz": round(queue.per_second / healthz.per_second, 3),
    }
    print(f"healthz {figures['healthz']}")
    print(f"person home {figures['person_home']}")
    print(f"moderation queue {figures['moderation_queue']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
