"""`personae demo`: the registry's story told step by step, through the real HTTP API."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from personae.bootstrap import build
from personae.cli.seed import AURORA, GUILDHALL
from personae.config import Settings
from personae.domain.staff import Role
from personae.http.app import create_app

Say = Callable[[str], None]


def _check(response: httpx.Response, expected: int) -> Any:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text}"
        )
    return response.json() if response.content else None


def run_story(say: Say, data_dir: Path | None = None) -> dict[str, Any]:
    """Run the story against a fresh registry; returns what each world saw (for tests)."""
    with tempfile.TemporaryDirectory(prefix="personae-demo-") as tmp:
        settings = Settings(
            data_dir=data_dir or Path(tmp),
            database_url=None,
            argon2_time_cost=1,
            argon2_memory_kib=8 * 1024,
            argon2_parallelism=1,
        )
        services = build(settings)
        try:
            return _story(services, say)
        finally:
            services.close()


def _story(services: Any, say: Say) -> dict[str, Any]:
    from starlette.testclient import TestClient

    password = "a demo passphrase, not a real one"  # noqa: S105 (a throwaway demo store)
    services.staff.create("admin", password, Role.ADMIN)
    client = TestClient(create_app(services))

    say("1. An admin registers two worlds, each naming what it asks for and why.")
    staff = _check(
        client.post("/v1/staff/sessions", json={"username": "admin", "password": password}), 201
    )
    admin = {"authorization": f"Bearer {staff['token']}"}
    keys = {}
    for spec in (AURORA, GUILDHALL):
        world = _check(client.post("/v1/admin/worlds", headers=admin, json=spec), 201)
        keys[spec["name"]] = (world["world"]["id"], world["api_key"])
        asked = [i["item"] for p in spec["purposes"] for i in p["items"]]
        say(f"   {spec['name']} asks for: {', '.join(asked)}")

    say("2. Alice registers once, with self-asserted attributes (IAL1).")
    alice = _check(
        client.post(
            "/v1/persons",
            json={
                "handle": "alice",
                "password": password,
                "attributes": {
                    "birth_date": "1991-04-12",
                    "country_of_residence": "FR",
                    "languages": ["fr", "en"],
                    "occupation": "2512",
                    "legal_name": "Alice Martin",
                },
            },
        ),
        201,
    )
    me = {"authorization": f"Bearer {alice['session']['token']}"}
    say("   Her values are sealed under her own data key; the database holds ciphertext.")

    say("3. Alice joins both worlds; she declines Aurora's optional country region.")
    aurora_id, aurora_key = keys["Aurora Plaza"]
    guild_id, guild_key = keys["Guildhall"]
    in_aurora = _check(
        client.post(
            "/v1/me/personas",
            headers=me,
            json={"world_id": aurora_id, "consent": ["birth_date@age_over_18", "languages@exact"]},
        ),
        201,
    )
    in_guild = _check(
        client.post(
            "/v1/me/personas",
            headers=me,
            json={"world_id": guild_id, "consent": ["occupation@major_group"]},
        ),
        201,
    )
    say(f"   persona in Aurora Plaza: {in_aurora['persona_id']}")
    say(f"   persona in Guildhall:    {in_guild['persona_id']}")

    say("4. Each world asks about its own persona, and sees only what it asked for.")
    seen = {}
    for name, persona, key in (
        ("Aurora Plaza", in_aurora["persona_id"], aurora_key),
        ("Guildhall", in_guild["persona_id"], guild_key),
    ):
        answer = _check(
            client.get(
                f"/v1/worlds/me/personas/{persona}", headers={"authorization": f"Bearer {key}"}
            ),
            200,
        )
        seen[name] = answer
        say(f"   {name} sees {answer['items']}")

    say("5. A world asking about the other world's persona learns nothing: 404.")
    probe = client.get(
        f"/v1/worlds/me/personas/{in_guild['persona_id']}",
        headers={"authorization": f"Bearer {aurora_key}"},
    )
    say(f"   Aurora Plaza asking for Guildhall's persona: {probe.status_code}")

    say("6. Alice reads who saw what (items, never values).")
    for entry in _check(client.get("/v1/me/disclosures", headers=me), 200):
        say(f"   {entry['world_name']}: {', '.join(entry['items'])}")
    say("Done: one person, two unlinkable personas, each world told only what it needs.")
    return {
        "seen": seen,
        "probe_status": probe.status_code,
        "personas": [in_aurora["persona_id"], in_guild["persona_id"]],
    }
