"""A real `personae serve --demo` process on a real port, spoken to over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from bench.common import serve

pytestmark = pytest.mark.slow


def test_serve_with_demo_data_answers_over_http(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    cheap_argon2 = {
        "PERSONAE_ARGON2_TIME_COST": "1",
        "PERSONAE_ARGON2_MEMORY_KIB": "1024",
        "PERSONAE_ARGON2_PARALLELISM": "1",
    }
    # The newcomer's default: SQLite under the data dir (serve() drops any database URL).
    with serve(data, cheap_argon2, demo=True) as base:
        creds = json.loads((data / "demo-credentials.json").read_text())
        assert (data / "personae.db").exists()
        with httpx.Client(base_url=base, timeout=10) as client:
            session = client.post(
                "/v1/sessions", json={"handle": "alice", "password": creds["person_password"]}
            )
            assert session.status_code == 201
            me = {"authorization": f"Bearer {session.json()['token']}"}
            personas = client.get("/v1/me/personas", headers=me).json()
            assert {p["world_name"] for p in personas} == {"Aurora Plaza", "Guildhall"}
            aurora = creds["worlds"]["Aurora Plaza"]["api_key"]
            persona = creds["alice_personas"]["Aurora Plaza"]
            seen = client.get(
                f"/v1/worlds/me/personas/{persona}", headers={"authorization": f"Bearer {aurora}"}
            )
            assert seen.json()["items"]["birth_date@age_over_18"] is True
            assert client.get("/docs").status_code == 200
            assert len(client.get("/v1/worlds").json()) == 2
            refused = client.post(
                "/v1/sessions", json={"handle": "alice", "password": "wrong-wrong-wrong"}
            )
            assert refused.status_code == 401
    output = (data / "serve.log").read_text()
    assert "curl" in output and "/docs" in output  # what to try
    assert "Traceback" not in output
    assert "wrong-wrong-wrong" not in output
