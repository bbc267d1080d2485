"""`personae lawful verify-package`: a downloaded package checks out; a tampered one does not."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, join, register, world
from tests.integration.test_lawful_due_process import intake_body, officer
from typer.testing import CliRunner

from personae.bootstrap import Services
from personae.cli.main import app
from personae.clock import FixedClock


def test_verify_package(
    services: Services, client: TestClient, clock: FixedClock, tmp_path: Path, database_url: str
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    persona = join(client, register(client, "alice", ALICE), aurora, ["birth_date@age_over_18"])
    ana, ben = officer(services, client, "ana"), officer(services, client, "ben")
    body = intake_body(clock, aurora, persona, process_type="subpoena", categories=["subscriber"])
    rid = client.post("/v1/lawful/requests", headers=ana, json=body).json()["id"]
    client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json={"decision": "approve"})
    client.post(f"/v1/lawful/requests/{rid}/execute", headers=ben)
    jws = client.get(f"/v1/lawful/requests/{rid}/package", headers=ben).text
    good, bad = tmp_path / "good.jws", tmp_path / "bad.jws"
    good.write_text(jws)
    head, payload, sig = jws.split(".")
    bad.write_text(f"{head}.{payload[:-4]}AAAA.{sig}")
    env = {
        "PERSONAE_DATA_DIR": str(services.settings.data_dir),
        "PERSONAE_DATABASE_URL": database_url,
    }
    result = CliRunner().invoke(app, ["lawful", "verify-package", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert f"valid package for request {rid}: subscriber=1" in result.output
    result = CliRunner().invoke(app, ["lawful", "verify-package", str(bad)], env=env)
    assert result.exit_code == 2
