"""`personae demo`: the story told step by step through the real HTTP API: the registry,
then moderation (a report, a decision, the door closes, an appeal, the door opens again)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from personae.bootstrap import build
from personae.cli.seed import AURORA, GUILDHALL
from personae.config import Settings
from personae.crypto.jose import public_jwk
from personae.domain.staff import Role
from personae.http.app import create_app
from personae.verify import present

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
    doors = _moderation_story(
        services,
        client,
        say,
        password=password,
        me=me,
        world_id=aurora_id,
        world_key=aurora_key,
        persona=in_aurora["persona_id"],
    )
    say("Done: one person, two unlinkable personas, each world told only what it needs.")
    return {
        "seen": seen,
        "probe_status": probe.status_code,
        "personas": [in_aurora["persona_id"], in_guild["persona_id"]],
        "doors": doors,
    }


POLICY = [
    {
        "id": "harassment",
        "title": "Harassment",
        "text": "No insults or threats.",
        "severity": "medium",
    },
    {"id": "spam", "title": "Spam", "text": "No unsolicited advertising.", "severity": "low"},
]


def _moderation_story(
    services: Any,
    client: Any,
    say: Say,
    *,
    password: str,
    me: dict[str, str],
    world_id: str,
    world_key: str,
    persona: str,
) -> list[int]:
    """Report, decision, the door closes; appeal to a second reviewer, the door opens again."""
    world = {"authorization": f"Bearer {world_key}"}
    _check(client.put("/v1/worlds/me/policy", headers=world, json={"clauses": POLICY}), 201)
    say("7. Aurora Plaza publishes its policy; anyone can read every version.")
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = _check(
        client.post(
            f"/v1/me/personas/{persona}/passes", headers=me, json={"holder_jwk": public_jwk(holder)}
        ),
        201,
    )

    def door() -> int:
        nonce = _check(client.post("/v1/worlds/me/nonces", headers=world), 201)["nonce"]
        presentation = present(
            issued["sd_jwt"],
            holder,
            audience=world_id,
            nonce=nonce,
            disclose=[],
            issued_at=services.ctx.clock.now(),
        )
        body = {"presentation": presentation, "nonce": nonce}
        return int(client.post("/v1/worlds/me/door-check", headers=world, json=body).status_code)

    doors = [door()]
    say(f"8. Alice takes a world pass; Aurora's door answers {doors[-1]}.")
    bob = _check(client.post("/v1/persons", json={"handle": "bob", "password": password}), 201)
    report = {
        "world_id": world_id,
        "persona_id": persona,
        "clause_id": "harassment",
        "location": "the fountain",
        "explanation": "insults in voice chat",
        "good_faith": True,
    }
    bob_me = {"authorization": f"Bearer {bob['session']['token']}"}
    receipt = _check(client.post("/v1/me/reports", headers=bob_me, json=report), 201)
    say(f"9. Bob reports Alice's persona for harassment; his receipt: {receipt['report_id']}.")
    mara, theo = (
        _moderator(services, client, name, password, world_id) for name in ("mara", "theo")
    )
    [case] = _check(client.get("/v1/moderation/queue", headers=mara), 200)["cases"]
    decision = {
        "measure": "suspension",
        "facts": "insults in voice chat at the fountain",
        "clauses": [{"clause_id": "harassment", "explanation": "insulting a member is harassment"}],
        "ends_at": (services.ctx.clock.now() + timedelta(days=7)).isoformat(),
    }
    url = f"/v1/moderation/cases/{case['id']}/decision"
    decided = _check(client.post(url, headers=mara, json=decision), 201)
    doors.append(door())
    say(
        f"10. Moderator {decided['reviewer_code']} suspends the persona for 7 days, citing "
        f"clause 'harassment'; the door now answers {doors[-1]}."
    )
    [notice] = [
        n
        for n in _check(client.get("/v1/me/notices", headers=me), 200)
        if n["kind"] == "moderation.decision"
    ]
    deadline = notice["body"]["redress"]["appeal_deadline"][:10]
    say(f"11. Alice's inbox holds the statement of reasons; she may appeal until {deadline}.")
    appeal = _check(
        client.post(
            f"/v1/me/decisions/{decided['id']}/appeal",
            headers=me,
            json={"statement": "that was not me: my headset was lent to a friend"},
        ),
        201,
    )
    outcome = {"outcome": "reversed", "reasons": "the recording shows another speaker"}
    appeal_url = f"/v1/moderation/appeals/{appeal['id']}/decision"
    own = client.post(appeal_url, headers=mara, json=outcome).status_code
    reversed_ = _check(client.post(appeal_url, headers=theo, json=outcome), 200)
    doors.append(door())
    say(
        f"12. The deciding moderator may not hear the appeal ({own}); a second one "
        f"({reversed_['reviewer_code']}) reverses it; the same pass opens the door: {doors[-1]}."
    )
    return doors


def _moderator(
    services: Any, client: Any, name: str, password: str, world_id: str
) -> dict[str, str]:
    services.staff.create(name, password, Role.MODERATOR, world_id)
    body = {"username": name, "password": password}
    session = _check(client.post("/v1/staff/sessions", json=body), 201)
    return {"authorization": f"Bearer {session['token']}"}
