"""Data export over HTTP and the CLI: everything held about a person, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, GUILD, bearer, join, register, world
from typer.testing import CliRunner

from personae.bootstrap import Services
from personae.cli.main import app
from personae.crypto.vault import persona_owner
from personae.services.notices import post_notice


def test_export_holds_everything_and_only_delivered_notices(
    services: Services, client: TestClient, tmp_path: Path, database_url: str
) -> None:
    aurora, key = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", GUILD)
    alice = register(client, "alice", ALICE)
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    join(client, alice, guild, ["occupation@major_group"])
    join(client, bob, aurora, ["birth_date@age_over_18"])
    assert client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).is_success
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:
        post_notice(services.ctx, uow, persona_owner(persona), "decision", {"s": "warned"}, now=now)
        post_notice(
            services.ctx,
            uow,
            persona_owner(persona),
            "lawful_access",
            {"s": "later"},
            now=now,
            deliver_after=now.replace(year=now.year + 1),
        )

    response = client.get("/v1/me/export", headers=alice)
    assert response.status_code == 200
    doc = response.json()
    assert {a["name"]: a["value"] for a in doc["attributes"]} == ALICE
    assert {p["world_name"] for p in doc["personas"]} == {"Aurora", "Guild"}
    assert [
        c["item"] for p in doc["personas"] if p["persona_id"] == persona for c in p["consents"]
    ] == ["birth_date@age_over_18"]
    assert [d["persona_id"] for d in doc["disclosures"]] == [persona]
    assert [n["body"] for n in doc["notices"]] == [{"s": "warned"}]
    assert doc["decisions"] == [] and doc["erasure"] is None
    assert client.get("/v1/me/export").status_code == 401

    bob_doc = client.get("/v1/me/export", headers=bob).json()
    assert len(bob_doc["personas"]) == 1 and bob_doc["notices"] == []

    env = {
        "PERSONAE_DATA_DIR": str(services.settings.data_dir),
        "PERSONAE_DATABASE_URL": database_url,
    }
    result = CliRunner().invoke(app, ["privacy", "export", "alice"], env=env)
    assert result.exit_code == 0, result.output
    cli_doc = json.loads(result.output)
    assert cli_doc["attributes"] == doc["attributes"] and cli_doc["personas"] == doc["personas"]
    missing = CliRunner().invoke(app, ["privacy", "export", "nobody"], env=env)
    assert missing.exit_code == 5


def test_retention_sweep_command(services: Services, database_url: str) -> None:
    env = {
        "PERSONAE_DATA_DIR": str(services.settings.data_dir),
        "PERSONAE_DATABASE_URL": database_url,
    }
    result = CliRunner().invoke(app, ["retention", "sweep", "--batch-size", "100"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("retention sweep: deleted 0 (nothing expired)")
