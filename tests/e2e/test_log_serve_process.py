"""A real `personae serve`: it sequences in the background, a real verifier checks it over HTTP,
and after its database is tampered with, verify names the entry and serve refuses to start."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
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


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "personae.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _wait_for_entries(base: str, proc: subprocess.Popen[bytes], log: Path) -> int:
    """The size of the first non-empty checkpoint the server publishes."""
    deadline = time.monotonic() + 90
    while True:
        try:
            response = httpx.get(f"{base}/v1/log/checkpoint", timeout=2)
            if response.status_code == 200 and int(response.text.split("\n")[1]) > 0:
                return int(response.text.split("\n")[1])
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("serve did not publish a checkpoint:\n" + log.read_text())
        time.sleep(0.2)


def test_serve_sequences_verify_checks_and_tampering_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {
        **os.environ,
        "PERSONAE_DATA_DIR": str(data),
        "PERSONAE_ARGON2_TIME_COST": "1",
        "PERSONAE_ARGON2_MEMORY_KIB": "1024",
        "PERSONAE_ARGON2_PARALLELISM": "1",
    }
    env.pop("PERSONAE_DATABASE_URL", None)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "personae.cli.main", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        size = _wait_for_entries(base, proc, log)
        state = str(tmp_path / "verifier")
        good = _cli(env, "log", "verify", "--url", base, "--full", "--state-dir", state)
        assert good.returncode == 0, good.stderr
        assert good.stdout.startswith("ok: 127.0.0.1:8000/log at size ")

        victim = size - 1
        with sqlite3.connect(data / "personae.db") as db:
            db.execute("UPDATE log_leaves SET entry = ? WHERE leaf_index = ?", (b"{}", victim))
        bad = _cli(env, "log", "verify", "--url", base, "--full", "--state-dir", state)
        assert bad.returncode == 9
        assert f"entry {victim} differs from the one verified before" in bad.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert "Traceback" not in log.read_text()

    refused = _cli(env, "serve", "--port", str(_free_port()))
    assert refused.returncode == 8
    assert refused.stderr.strip().split("\n")[-1] == (
        f"personae: transparency log damaged: leaf {victim}: "
        "its entry does not hash to its stored leaf hash"
    )
