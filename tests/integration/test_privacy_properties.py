"""The two promises that stand out: values sealed at rest, personas unlinkable across worlds."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, GUILD, bearer, join, register, world

from personae.bootstrap import Services
from personae.store import tables as t

# Distinctive values, so a hit in the raw bytes cannot be a coincidence.
PEOPLE: dict[str, dict[str, Any]] = {
    "alice": {
        "birth_date": "1987-03-14",
        "legal_name": "Zebulon Quaxwright",
        "affiliation": "Xylophonic Guild of Tromsø",
        "occupation": "2659",
        "languages": ["eo", "fy"],
    },
    "bob": {
        "birth_date": "1979-07-23",
        "legal_name": "Ottoline Frimpwhistle",
        "affiliation": "Quillbark Cooperative",
        "occupation": "7126",
    },
}


def _needles() -> list[bytes]:
    out = []
    for attributes in PEOPLE.values():
        for value in attributes.values():
            for item in value if isinstance(value, list) else [value]:
                if len(str(item)) >= 4:  # two-letter codes are everywhere in random bytes
                    out.append(str(item).encode("utf-8"))
    out.append(json.dumps(["eo", "fy"]).encode())
    return out


def _register_all(services: Services, client: TestClient) -> dict[str, dict[str, str]]:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", GUILD)
    headers = {}
    for handle, attributes in PEOPLE.items():
        who = register(client, handle, attributes)
        join(client, who, aurora, ["birth_date@age_over_18", "languages@exact"])
        join(client, who, guild, ["occupation@major_group", "birth_date@age_band"])
        headers[handle] = who
    return headers


def _all_cells(services: Services) -> list[bytes]:
    """Every stored cell of every table, as bytes (what a dump of the tables holds)."""
    cells: list[bytes] = []
    with services.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        cells.append(bytes(value))
                    elif value is not None:
                        cells.append(orjson.dumps(value, default=str))
    return cells


def test_sealed_at_rest(services: Services, client: TestClient, tmp_path: Path) -> None:
    _register_all(services, client)
    needles = _needles()
    cells = _all_cells(services)
    assert cells, "the tables hold rows"
    for needle in needles:
        assert not any(needle in cell for cell in cells), needle

    url = services.engine.url
    if url.get_backend_name() == "sqlite":
        services.engine.dispose()  # close connections so everything is in the files
        files = [Path(str(url.database))]
        files += [p for p in files[0].parent.glob(files[0].name + "-*")]  # WAL and SHM
        raw = b"".join(p.read_bytes() for p in files)
        assert len(raw) > 10_000
        for needle in needles:
            assert needle not in raw, needle
    elif shutil.which("pg_dump"):
        schema = dict(url.query)["options"].split("=", 1)[1]
        dump = subprocess.run(
            [
                "pg_dump",
                "--data-only",
                "-n",
                schema,
                "-h",
                url.host or "127.0.0.1",
                "-U",
                url.username or "postgres",
                url.database or "test",
            ],
            capture_output=True,
            check=True,
        ).stdout
        assert b"COPY" in dump
        # pg_dump writes bytea as hex text, where a short all-digit value such as an
        # ISCO code ("2659") turns up by chance; those are checked in the cells above,
        # which hold the raw bytes.
        textual = [n for n in needles if not (len(n) < 8 and n.isdigit())]
        assert len(textual) >= len(needles) - 2
        for needle in textual:
            assert needle not in dump, needle


def test_the_person_still_reads_their_own_values(services: Services, client: TestClient) -> None:
    headers = _register_all(services, client)
    profile = client.get("/v1/me", headers=headers["alice"]).json()
    assert {a["name"]: a["value"] for a in profile["attributes"]}[
        "legal_name"
    ] == "Zebulon Quaxwright"


def test_unlinkable_across_worlds(services: Services, client: TestClient) -> None:
    aurora, aurora_key = world(services, "Aurora", AGE_GATE)
    guild, guild_key = world(services, "Guild", GUILD)
    alice = register(client, "alice", PEOPLE["alice"])
    in_aurora = join(client, alice, aurora, ["birth_date@age_over_18", "languages@exact"])
    in_guild = join(client, alice, guild, ["occupation@major_group"])
    assert in_aurora != in_guild

    seen_by_aurora = client.get(
        f"/v1/worlds/me/personas/{in_aurora}", headers=bearer(aurora_key)
    ).text
    seen_by_guild = client.get(f"/v1/worlds/me/personas/{in_guild}", headers=bearer(guild_key)).text
    # Nothing one world receives names the other persona, the other world, or a shared handle.
    assert in_guild not in seen_by_aurora and guild not in seen_by_aurora
    assert in_aurora not in seen_by_guild and aurora not in seen_by_guild
    aurora_view, guild_view = json.loads(seen_by_aurora), json.loads(seen_by_guild)
    assert set(aurora_view) == set(guild_view) == {"persona_id", "items", "withheld"}
    assert set(aurora_view["items"]).isdisjoint(guild_view["items"])  # only what each asked
    # Each world learns only its own persona: asking for the other's is the unknown-persona 404.
    assert (
        client.get(f"/v1/worlds/me/personas/{in_guild}", headers=bearer(aurora_key)).status_code
        == 404
    )

    # The store holds no clear link: no row carries both persona ids, or a persona id
    # beside the person's internal id.
    with services.engine.connect() as conn:
        person_ids = list(conn.execute(select(t.persons.c.id)).scalars())
    assert len(person_ids) == 1
    for cell in _all_cells(services):
        assert not (in_aurora.encode() in cell and in_guild.encode() in cell)
        if in_aurora.encode() in cell or in_guild.encode() in cell:
            assert person_ids[0].encode() not in cell
    with services.engine.connect() as conn:
        persona_columns = {c.name for c in t.personas.columns}
    assert "person_id" not in persona_columns


def test_persona_ids_differ_per_world_and_are_stable(services: Services) -> None:
    ids = {services.ctx.pseudonyms.persona_id(f"w_{i}", "person-1") for i in range(50)}
    assert len(ids) == 50
    assert services.ctx.pseudonyms.persona_id(
        "w_1", "person-1"
    ) == services.ctx.pseudonyms.persona_id("w_1", "person-1")
