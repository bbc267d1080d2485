"""The inbox: notices sealed at rest, addressed to a person or a persona, delivered on time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, PASSWORD, bearer, join, register, world

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.vault import person_owner, persona_owner
from personae.services.notices import post_notice
from personae.store import tables as t


def test_inbox_delivers_sealed_notices_in_time(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    person_id = services.auth.person(alice["authorization"].split()[1]).person_id
    now = clock.now()
    with services.ctx.uow() as uow:
        post_notice(
            services.ctx,
            uow,
            persona_owner(persona),
            "decision",
            {"statement": "Quorvex harassment warning"},
            now=now,
        )
        post_notice(
            services.ctx,
            uow,
            person_owner(person_id),
            "lawful_access",
            {"authority": "Zarnia Police"},
            now=now,
            deliver_after=now + timedelta(days=30),
        )

    inbox = client.get("/v1/me/notices", headers=alice).json()
    assert [(n["kind"], n["persona_id"], n["body"]) for n in inbox] == [
        ("decision", persona, {"statement": "Quorvex harassment warning"})
    ]
    assert client.get("/v1/me/notices", headers=bob).json() == []
    assert client.post(f"/v1/me/notices/{inbox[0]['id']}/read", headers=bob).status_code == 404
    assert client.post(f"/v1/me/notices/{inbox[0]['id']}/read", headers=alice).status_code == 204
    assert client.post(f"/v1/me/notices/{inbox[0]['id']}/read", headers=alice).status_code == 404

    with services.engine.connect() as conn:
        sealed = list(conn.execute(select(t.notices.c.sealed)).scalars())
    assert len(sealed) == 2 and not any(b"Quorvex" in s or b"Zarnia" in s for s in sealed)

    clock.advance(timedelta(days=31))
    session = client.post("/v1/sessions", json={"handle": "alice", "password": PASSWORD}).json()
    kinds = [
        n["kind"] for n in client.get("/v1/me/notices", headers=bearer(session["token"])).json()
    ]
    assert sorted(kinds) == ["decision", "lawful_access"]
