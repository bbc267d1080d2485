"""A real `personae serve --demo` process on a real port, spoken to over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_with_demo_data_answers_over_http(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PERSONAE_DATA_DIR": str(tmp_path / "var"),
        "PERSONAE_ARGON2_TIME_COST": "1",
        "PERSONAE_ARGON2_MEMORY_KIB": "1024",
        "PERSONAE_ARGON2_PARALLELISM": "1",
    }
    env.pop("PERSONAE_DATABASE_URL", None)  # the newcomer's default: SQLite under the data dir
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "personae.cli.main", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("serve did not start:\n" + log.read_text())
            time.sleep(0.2)

        creds = json.loads((tmp_path / "var" / "demo-credentials.json").read_text())
        assert (tmp_path / "var" / "personae.db").exists()
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
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    output = log.read_text()
    assert "curl" in output and "/docs" in output  # what to try
    assert "Traceback" not in output
    assert "wrong-wrong-wrong" not in output
