"""The online door check under load, beside a trivial endpoint on the same server, same run.

    python -m bench.door_online [--quick]

Method. One `personae serve` process (one uvicorn worker) on loopback, SQLite.
A world, a person who joined it, and a pass are made in-process first; then, for
each door check, a nonce is stored and a presentation (two disclosures plus a
key-binding JWT) is built ahead of time, so the timed phase sends only
`POST /v1/worlds/me/door-check`, each with its own single-use nonce. A bounded
load generator (bench/load.py) keeps 50 keep-alive connections busy until every
request is answered. The same generator first measures `GET /healthz`.

The limit implied by "the trivial endpoint plus two verifies" is
1 / (1/healthz_rps + 2 x t_verify), where t_verify is one raw ES256 verify with
`cryptography`, measured in this process in the same run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import timeit
from pathlib import Path

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench.common import AGE_GATE_PURPOSES, serve, summary_ms
from bench.load import Request, run_load
from personae.bootstrap import build
from personae.config import Settings
from personae.crypto.jose import public_jwk
from personae.domain.persons import EvidenceKind
from personae.services.registry import Registration
from personae.verify import present


def prepare(data: Path, checks: int) -> tuple[str, list[bytes]]:
    """World key and ready-made door-check bodies, each with its own stored nonce."""
    services = build(
        Settings(
            data_dir=data,
            database_url=None,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            argon2_parallelism=1,
        )
    )
    try:
        world = services.worlds.register_unchecked("Door", "door@example.org", AGE_GATE_PURPOSES)
        done = services.registry.register(
            Registration(
                "visitor",
                "a long bench passphrase",
                EvidenceKind.SELF_ASSERTED,
                None,
                {"birth_date": "1990-02-03", "languages": ["en", "nl"]},
            )
        )
        who = services.auth.person(done.session.token)
        persona = services.registry.join(
            who, world.world.id, ["birth_date@age_over_18", "languages@exact"]
        ).persona
        holder = ec.generate_private_key(ec.SECP256R1())
        issued = services.passes.issue(who, persona.persona_id, public_jwk(holder))
        from personae.services.auth import WorldPrincipal

        principal = WorldPrincipal(world.world.id, "Door")
        bodies = []
        now = services.ctx.clock.now()
        for _ in range(checks):
            nonce = services.door.new_nonce(principal).nonce
            presentation = present(
                issued.sd_jwt,
                holder,
                audience=world.world.id,
                nonce=nonce,
                disclose=["birth_date@age_over_18", "languages@exact"],
                issued_at=now,
            )
            bodies.append(orjson.dumps({"presentation": presentation, "nonce": nonce}))
        return world.api_key, bodies
    finally:
        services.close()


def raw_verify_seconds() -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    message = b"x" * 600
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    number = 2000
    best = min(
        timeit.repeat(
            lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256())),
            number=number,
            repeat=5,
        )
    )
    return best / number


def measure(quick: bool) -> dict[str, object]:
    """The online door check beside /healthz on one server, with the implied limit."""
    checks = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="personae-door-") as tmp:
        data = Path(tmp)
        key, bodies = prepare(data, checks)
        with serve(data) as base:
            run_load(base, [Request("GET", "/healthz")] * 500, 50)  # warm-up
            trivial = run_load(base, [Request("GET", "/healthz")] * checks, 50)
            headers = (("authorization", f"Bearer {key}"), ("content-type", "application/json"))
            door = run_load(
                base,
                [Request("POST", "/v1/worlds/me/door-check", b, headers) for b in bodies],
                50,
            )
    if door.statuses != {200: checks}:
        raise RuntimeError(f"door checks did not all pass: {door.statuses}")
    t_verify = raw_verify_seconds()
    limit = 1 / (1 / trivial.per_second + 2 * t_verify)
    return {
        "connections": 50,
        "requests": checks,
        "healthz": {"rps": round(trivial.per_second, 1), **summary_ms(trivial.latencies)},
        "door_check": {"rps": round(door.per_second, 1), **summary_ms(door.latencies)},
        "raw_es256_verify_us": round(t_verify * 1e6, 1),
        "implied_limit_rps": round(limit, 1),
        "ratio_to_limit": round(door.per_second / limit, 3),
        "target_ratio_min": 0.7,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    result = {"bench": "door_online", "quick": args.quick, **measure(args.quick)}
    print(f"healthz {result['healthz']}  door-check {result['door_check']}")
    print(
        f"implied limit {result['implied_limit_rps']}/s; door check reaches "
        f"{result['ratio_to_limit']} of it"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
