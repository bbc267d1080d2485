"""Shared bench plumbing: percentiles, a real `personae serve` process, timing loops."""

from __future__ import annotations

import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def summary_ms(samples: list[float]) -> dict[str, float]:
    """p50, p99 and mean of latencies given in seconds, in milliseconds."""
    return {
        "p50_ms": round(percentile(samples, 0.50) * 1000, 3),
        "p99_ms": round(percentile(samples, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(
    data_dir: Path, extra_env: dict[str, str] | None = None, *, demo: bool = False
) -> Iterator[str]:
    """Run `personae serve` on a free loopback port; yields its base URL.

    The server's output goes to ``data_dir/serve.log``. Used by benchmarks and by
    the end-to-end test of a real server process.
    """
    port = free_port()
    env = {**os.environ, "PERSONAE_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("PERSONAE_DATABASE_URL", None) if "PERSONAE_DATABASE_URL" not in (
        extra_env or {}
    ) else None
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "personae.cli.main", "serve", "--port", str(port)]
        + (["--demo"] if demo else []),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "personae serve did not start; see " + str(data_dir / "serve.log")
                )
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# The terms of a world used by several benchmarks: an age gate and optional languages.
AGE_GATE_PURPOSES: list[dict[str, object]] = [
    {
        "name": "age gate",
        "description": "adults only",
        "items": [
            {"item": "birth_date@age_over_18", "required": True, "why": "adults only"},
            {"item": "languages@exact", "required": False, "why": "rooms"},
        ],
    }
]
