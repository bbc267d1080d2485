"""The world-side SDK imports nothing of the registry's server stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ALLOWED_PERSONAE = {
    "personae",
    "personae.crypto",
    "personae.crypto.jose",
    "personae.crypto.statuslist",
}
FORBIDDEN_ROOTS = {"fastapi", "sqlalchemy", "pydantic", "starlette", "alembic", "typer", "httpx"}

PROBE = """
import json, sys
import personae.verify
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.slow
def test_import_loads_only_the_sdk_and_jose() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    modules = set(json.loads(out))
    ours = {m for m in modules if m == "personae" or m.startswith("personae.")}
    assert "personae.verify" in ours
    strays = {m for m in ours if m not in ALLOWED_PERSONAE and not m.startswith("personae.verify")}
    assert strays == set()
    assert {m.split(".")[0] for m in modules} & FORBIDDEN_ROOTS == set()


def test_public_surface_is_curated() -> None:
    import personae.verify as sdk

    assert sorted(sdk.__all__) == sorted(
        name for name in vars(sdk) if not name.startswith("_") and name != "annotations"
    )
    assert "DoorCheck" in sdk.__all__ and "PassRejected" in sdk.__all__
