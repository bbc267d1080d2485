"""Erasure: shredding reaches copies, passes revoked, holds defer or keep, sanctions guard."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, PASSWORD, bearer, join, register, world

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.statuslist import status_at
from personae.crypto.vault import person_owner, persona_owner
from personae.domain.lawful_access import HoldBasis, TargetScope
from personae.domain.staff import Role
from personae.errors import KeystoreError
from personae.services.holds import open_hold
from personae.store import tables as t

HOLDER = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def person_id(services: Services, header: dict[str, str]) -> str:
    return services.auth.person(header["authorization"].split()[1]).person_id


def sealed_rows(url: str, pid: str, personas: list[str]) -> dict[str, bytes]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {
            f"{person_owner(pid)}|{name}": bytes(sealed)
            for name, sealed in conn.execute(
                select(t.person_attributes.c.name, t.person_attributes.c.sealed).where(
                    t.person_attributes.c.person_id == pid
                )
            )
        }
        for name, sealed, persona in conn.execute(
            select(
                t.persona_values.c.attribute,
                t.persona_values.c.sealed,
                t.persona_values.c.persona_id,
            ).where(t.persona_values.c.persona_id.in_(personas))
        ):
            rows[f"{persona_owner(persona)}|{name}"] = bytes(sealed)
    engine.dispose()
    return rows


def test_erasure_shreds_every_copy(
    services: Services, client: TestClient, clock: FixedClock, tmp_path: Path, database_url: str
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18", "languages@exact"])
    pid = person_id(services, alice)
    if database_url.startswith("sqlite"):  # a backup file of the database
        copy = tmp_path / "backup.db"
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as raw:
            raw.execute(f"VACUUM INTO '{copy}'")
        backup = sealed_rows(f"sqlite:///{copy}", pid, [persona])
    else:  # a dump of the rows
        backup = sealed_rows(database_url, pid, [persona])
    assert len(backup) == 8  # six attributes, two persona copies
    for key, blob in backup.items():  # they open before the erasure
        owner, name = key.split("|")
        assert services.ctx.vault.open(owner, {name: blob})

    assert client.post("/v1/me/erasure", headers=alice).status_code == 202
    clock.advance(timedelta(days=31))
    assert services.erasure.run_due() == 1

    for key, blob in backup.items():
        owner, name = key.split("|")
        with pytest.raises(KeystoreError):
            services.ctx.vault.open(owner, {name: blob})
    assert sealed_rows(database_url, pid, [persona]) == {}


def test_erasure_deletes_everything_and_revokes_passes(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    bob_persona = join(client, bob, aurora, ["birth_date@age_over_18"])
    issued = client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": HOLDER}
    )
    assert issued.status_code == 201, issued.text
    pid = person_id(services, alice)
    before = sealed_rows_any(services)
    requested = client.post("/v1/me/erasure", headers=alice).json()
    assert requested["status"] == "pending" and requested["deferred_until"] is None
    # Cancel within the grace period, and ask again.
    assert client.delete("/v1/me/erasure", headers=alice).status_code == 204
    assert client.get("/v1/me/erasure", headers=alice).status_code == 404
    assert client.post("/v1/me/erasure", headers=alice).status_code == 202
    clock.advance(timedelta(days=29))
    assert services.erasure.run_due() == 0
    clock.advance(timedelta(days=2))
    report = services.retention.sweep()
    assert report.erasures == 1

    with services.engine.connect() as conn:
        assert conn.execute(select(t.persons.c.id).where(t.persons.c.id == pid)).first() is None
        assert (
            conn.execute(select(t.personas.c.id).where(t.personas.c.id == persona)).first() is None
        )
        assert (
            conn.execute(select(t.passes.c.id).where(t.passes.c.persona_id == persona)).first()
            is None
        )
        assert conn.execute(select(t.erasure_requests.c.person_id)).first() is None
        bits = conn.execute(select(t.status_lists.c.bits)).scalars().all()
    assert any(any(b) for b in bits)  # the revocation bit stays set in the status list
    for owner in (person_owner(pid), persona_owner(persona)):
        assert not services.keystore.has_data_key(owner)
    assert services.keystore.has_data_key(persona_owner(bob_persona))
    after = sealed_rows_any(services)
    assert before - after and after <= before
    assert (
        client.post("/v1/sessions", json={"handle": "alice", "password": PASSWORD}).status_code
        == 401
    )
    # The handle is free again: no sanction was running.
    assert (
        client.post("/v1/persons", json={"handle": "alice", "password": PASSWORD}).status_code
        == 201
    )


def sealed_rows_any(services: Services) -> set[bytes]:
    with services.engine.connect() as conn:
        a = conn.execute(select(t.person_attributes.c.sealed)).scalars().all()
        b = conn.execute(select(t.persona_values.c.sealed)).scalars().all()
    return {bytes(x) for x in [*a, *b]}


def test_held_person_is_deferred_and_told(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    pid = person_id(services, alice)
    with services.ctx.uow() as uow:  # a hold on the person, as a preservation request makes
        hold = open_hold(
            services.ctx,
            uow,
            basis=HoldBasis.LITIGATION,
            scope=TargetScope.PERSON,
            world_id=aurora,
            persona_id=persona,
            covered_owners=[person_owner(pid), persona_owner(persona)],
            by="staff_ana",
            request_id=None,
            now=clock.now(),
        )
    requested = client.post("/v1/me/erasure", headers=alice)
    assert requested.status_code == 202
    assert requested.json()["status"] == "deferred"
    assert datetime.fromisoformat(requested.json()["deferred_until"]) == hold.ends_at
    assert "legal hold" in requested.json()["reason"]
    clock.advance(timedelta(days=31))
    assert services.erasure.run_due() == 0
    alice = bearer(
        client.post("/v1/sessions", json={"handle": "alice", "password": PASSWORD}).json()["token"]
    )
    told = [
        n
        for n in client.get("/v1/me/notices", headers=alice).json()
        if n["kind"] == "erasure_deferred"
    ]
    assert len(told) == 1
    assert told[0]["body"]["until"].startswith(hold.ends_at.isoformat()[:10])
    assert services.keystore.has_data_key(persona_owner(persona))
    clock.advance(timedelta(days=60))  # the 90-day hold ends by itself
    report = services.retention.sweep()
    assert report.holds_ended == 1 and report.erasures == 1
    assert report.kept_personas_erased == 0
    assert not services.keystore.has_data_key(persona_owner(persona))
    with services.ctx.uow(write=False) as uow:
        kinds = [e.type for e in uow.outbox.all()]
    assert {"hold.created", "hold.ended", "erasure.deferred", "erasure.completed"} <= set(kinds)


def row_exists(services: Services, table: t.Table, column: str, value: str) -> bool:
    with services.engine.connect() as conn:
        return (
            conn.execute(select(table.c[column]).where(table.c[column] == value)).first()
            is not None
        )


def test_held_persona_is_kept_and_the_rest_erased_now(
    services: Services,
    client: TestClient,
    clock: FixedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aurora, aurora_key = world(services, "Aurora", AGE_GATE)
    borealis, _ = world(services, "Borealis", AGE_GATE)
    alice = register(client, "alice", ALICE)
    held = join(client, alice, aurora, ["birth_date@age_over_18"])
    as_aurora = bearer(aurora_key)
    assert client.get(f"/v1/worlds/me/personas/{held}", headers=as_aurora).status_code == 200
    free = join(client, alice, borealis, ["birth_date@age_over_18"])
    issued = client.post(
        f"/v1/me/personas/{free}/passes", headers=alice, json={"holder_jwk": HOLDER}
    )
    assert issued.status_code == 201, issued.text
    held_pass = client.post(
        f"/v1/me/personas/{held}/passes", headers=alice, json={"holder_jwk": HOLDER}
    )
    assert held_pass.status_code == 201, held_pass.text
    pid = person_id(services, alice)
    backup = sealed_rows(database_url, pid, [held, free])
    services.staff.create("ana", PASSWORD, Role.LEGAL_OFFICER)
    ana = bearer(
        client.post("/v1/staff/sessions", json={"username": "ana", "password": PASSWORD}).json()[
            "token"
        ]
    )
    hold = client.post(
        "/v1/lawful/holds", headers=ana, json={"world_id": aurora, "persona_id": held}
    )
    assert hold.status_code == 201, hold.text
    ends = datetime.fromisoformat(hold.json()["ends_at"])

    requested = client.post("/v1/me/erasure", headers=alice).json()
    assert requested["status"] == "pending" and requested["deferred_until"] is None
    assert datetime.fromisoformat(requested["kept_until"]) == ends
    assert "legal hold" in requested["reason"]
    clock.advance(timedelta(days=31))
    assert services.erasure.run_due() == 1  # runs now, for everything the hold does not cover

    def opens(owner: str) -> bool:
        blobs = {k.split("|")[1]: v for k, v in backup.items() if k.split("|")[0] == owner}
        assert blobs
        try:
            return bool(services.ctx.vault.open(owner, blobs))
        except KeystoreError:
            return False

    assert not opens(person_owner(pid)) and not opens(persona_owner(free))
    assert opens(persona_owner(held))
    assert not row_exists(services, t.persons, "id", pid)
    assert not row_exists(services, t.personas, "id", free)
    assert not row_exists(services, t.passes, "persona_id", free)
    assert row_exists(services, t.personas, "id", held)
    assert row_exists(services, t.persona_values, "persona_id", held)
    assert row_exists(services, t.held_persona_erasures, "persona_id", held)
    # Nor is it shown to its world: no attributes, no standing (found in review).
    for path in (f"/v1/worlds/me/personas/{held}", f"/v1/worlds/me/personas/{held}/standing"):
        assert client.get(path, headers=as_aurora).status_code == 404, path
    with services.engine.connect() as conn:
        disclosures = conn.execute(
            select(t.disclosures.c.persona_id).where(t.disclosures.c.persona_id == held)
        ).all()
    assert len(disclosures) == 1  # the one before the erasure, none after
    # The held persona is kept as a record, not for use: its pass no longer opens doors.
    with services.ctx.uow(write=False) as uow:
        kept_pass = uow.passes.get(held_pass.json()["pass_id"])
        assert kept_pass is not None and kept_pass.revoked_by == "erasure"
        listed = uow.status_lists.get(kept_pass.status_list_id)
        assert listed is not None
        assert status_at(listed.bits, kept_pass.status_index, 1) == 1
    with services.engine.connect() as conn:
        assert conn.execute(select(t.erasure_requests.c.person_id)).first() is None
        columns = set(t.held_persona_erasures.c.keys())
    assert columns == {"persona_id", "created_at"}  # names no person, no other persona
    assert services.retention.sweep().kept_personas_erased == 0  # still held
    assert opens(persona_owner(held))

    clock.advance(timedelta(days=60))  # the 90-day hold ends by itself
    real_shred = services.ctx.vault.shred

    def crash(owner: str) -> None:
        raise RuntimeError("killed before the key was destroyed")

    monkeypatch.setattr(services.ctx.vault, "shred", crash)
    with pytest.raises(RuntimeError):
        services.retention.sweep()
    monkeypatch.setattr(services.ctx.vault, "shred", real_shred)
    assert not row_exists(services, t.personas, "id", held)
    assert row_exists(services, t.held_persona_erasures, "persona_id", held)

    report = services.retention.sweep()  # the next sweep finishes it
    assert report.kept_personas_erased == 1
    assert not opens(persona_owner(held))
    assert not row_exists(services, t.personas, "id", held)
    assert not row_exists(services, t.persona_values, "persona_id", held)
    assert not row_exists(services, t.held_persona_erasures, "persona_id", held)
    assert not services.keystore.has_data_key(persona_owner(held))
    before = sealed_rows_any(services)
    again = services.retention.sweep()
    assert again.kept_personas_erased == 0 and again.erasures == 0
    assert sealed_rows_any(services) == before


def test_hold_extends_once(services: Services, client: TestClient, clock: FixedClock) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    persona = join(client, register(client, "alice", ALICE), aurora, ["birth_date@age_over_18"])
    services.staff.create("ana", PASSWORD, Role.LEGAL_OFFICER)
    ana = bearer(
        client.post("/v1/staff/sessions", json={"username": "ana", "password": PASSWORD}).json()[
            "token"
        ]
    )
    hold = client.post(
        "/v1/lawful/holds", headers=ana, json={"world_id": aurora, "persona_id": persona}
    ).json()
    first = client.post(f"/v1/lawful/holds/{hold['id']}/extend", headers=ana)
    assert first.status_code == 200, first.text
    assert first.json()["extensions"] == 1
    assert client.post(f"/v1/lawful/holds/{hold['id']}/extend", headers=ana).status_code == 409
    assert client.post("/v1/lawful/holds/hold_nope/extend", headers=ana).status_code == 404


def test_running_sanction_leaves_a_guard_until_it_ends(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    with services.engine.begin() as conn:
        conn.execute(
            insert(t.sanctions).values(
                id="san_1",
                persona_id=persona,
                world_id=aurora,
                decision_ref=b"\x01" * 32,
                measure="suspension",
                blocks_passes=True,
                starts_at=clock.now(),
                ends_at=clock.now() + timedelta(days=60),
                lifted_at=None,
            )
        )
    client.post("/v1/me/erasure", headers=alice)
    clock.advance(timedelta(days=31))
    assert services.erasure.run_due() == 1
    again = {"handle": "alice", "password": PASSWORD}
    assert client.post("/v1/persons", json=again).status_code == 409
    clock.advance(timedelta(days=30))
    assert services.retention.sweep().deleted["sanction_guards"] == 1
    assert client.post("/v1/persons", json=again).status_code == 201
