"""Registry review findings, each on SQLite and PostgreSQL: evidence-established values
stay fixed, concurrent joins and consents settle without a 500, and a person's change of
an attribute leaves no row order that links their personas."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient
from tests.conftest import START, make_settings
from tests.helpers import AGE_GATE, ALICE, GUILD, PASSWORD, bearer, join, register, world

from personae.bootstrap import Services, build
from personae.clock import FixedClock
from personae.crypto.jose import public_jwk, sign_compact
from personae.domain.events import EventType
from personae.http.app import create_app
from personae.services.auth import PersonPrincipal
from personae.store import repositories
from personae.store import tables as t

# -- 1. a value evidence established can be neither removed nor replaced ---------------


@pytest.fixture
def trusted(tmp_path: Path, database_url: str) -> Iterator[tuple[Services, str]]:
    """A registry trusting one issuer, and evidence from it for a person born 2012-01-02."""
    key = ec.generate_private_key(ec.SECP256R1())
    trust = tmp_path / "trust.json"
    trust.write_bytes(
        orjson.dumps(
            {
                "issuers": [
                    {
                        "issuer": "https://id.example.gov",
                        "jwks": {"keys": [{**public_jwk(key), "kid": "k1"}]},
                        "claims": {"birthdate": "birth_date"},
                    }
                ]
            }
        )
    )
    settings = make_settings(tmp_path / "data", database_url).model_copy(
        update={"trust_list_path": trust}
    )
    services = build(settings, clock=FixedClock(START))
    now = int(START.timestamp())
    token = sign_compact(
        key,
        {"kid": "k1", "typ": "JWT"},
        {
            "iss": "https://id.example.gov",
            "sub": "doc-2012",
            "iat": now,
            "exp": now + 600,
            "birthdate": "2012-01-02",
        },
    )
    try:
        yield services, token
    finally:
        services.close()


def test_a_value_evidence_established_can_be_neither_removed_nor_replaced(
    trusted: tuple[Services, str],
) -> None:
    services, token = trusted
    aurora, aurora_key = world(services, "Aurora", AGE_GATE)
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/persons",
            json={
                "handle": "teen",
                "password": PASSWORD,
                "evidence": {"kind": "trusted_issuer", "token": token},
                "attributes": {"languages": ["fr"]},
            },
        )
        assert response.status_code == 201, response.text
        teen = bearer(response.json()["session"]["token"])

        removed = client.delete("/v1/me/attributes/birth_date", headers=teen)
        assert removed.status_code == 409, removed.text
        assert removed.headers["content-type"].startswith("application/problem+json")
        assert "trusted issuer" in removed.json()["detail"]
        replaced = client.put(
            "/v1/me/attributes/birth_date", headers=teen, json={"value": "1980-01-01"}
        )
        assert replaced.status_code == 422, replaced.text

        me = client.get("/v1/me", headers=teen).json()
        assert me["assurance"] == "IAL2"
        birth = next(a for a in me["attributes"] if a["name"] == "birth_date")
        assert (birth["value"], birth["evidence"]) == ("2012-01-02", "trusted_issuer")
        persona = join(client, teen, aurora, ["birth_date@age_over_18"])
        seen = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(aurora_key))
        assert seen.json()["items"] == {"birth_date@age_over_18": False}

        # What the person asserted alone stays theirs to remove.
        assert client.delete("/v1/me/attributes/languages", headers=teen).status_code == 204


# -- 2. concurrent joins and consents ---------------------------------------------------


def _meet_first(
    services: Services, monkeypatch: pytest.MonkeyPatch, owner: type, name: str, wait: float
) -> None:
    """Make two transactions meet at ``owner.name`` before either runs it (PostgreSQL;
    SQLite's writers take turns, so there is no race to provoke). A transaction that
    rightly waits for the other elsewhere lets the meeting time out and goes on."""
    if services.engine.dialect.name != "postgresql":
        return
    barrier = threading.Barrier(2, timeout=wait)
    original: Callable[..., Any] = getattr(owner, name)

    def met(self: Any, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, met)


def _twice(call: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(call())
        except BaseException as exc:  # collected for the assertion, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


def _person(services: Services, client: TestClient, handle: str) -> PersonPrincipal:
    header = register(client, handle, ALICE)
    return services.auth.person(header["authorization"].removeprefix("Bearer "))


def _events(services: Services, kind: EventType) -> int:
    with services.ctx.uow(write=False) as uow:
        return sum(1 for e in uow.outbox.all() if e.type == kind)


def test_two_joins_racing_for_one_persona_both_get_it(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    who = _person(services, client, "alice")
    _meet_first(services, monkeypatch, repositories.Personas, "add", wait=10)

    consent = ["birth_date@age_over_18", "languages@exact"]
    results, errors = _twice(lambda: services.registry.join(who, aurora, consent))

    assert errors == []
    assert len({r.persona.persona_id for r in results}) == 1
    assert sorted(r.created for r in results) == [False, True]
    assert _events(services, EventType.PERSONA_CREATED) == 1
    with services.engine.connect() as conn:
        assert len(conn.execute(select(t.personas.c.id)).all()) == 1
    persona = results[0].persona.persona_id
    with services.ctx.uow(write=False) as uow:
        assert uow.consents.active_items(persona) == [
            "birth_date@age_over_18",
            "languages@exact",
        ]
        assert set(uow.persona_values.for_persona(persona)) == {"birth_date", "languages"}


def test_two_grants_racing_for_one_item_both_succeed(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    who = _person(services, client, "alice")
    persona = services.registry.join(who, aurora, ["birth_date@age_over_18"]).persona.persona_id
    # With the persona locked, the second grant waits for the first: the meeting times out.
    _meet_first(services, monkeypatch, repositories.Consents, "grant", wait=1)

    results, errors = _twice(
        lambda: services.registry.set_consent(who, persona, "languages@exact", True)
    )

    assert errors == []
    assert len(results) == 2
    assert _events(services, EventType.CONSENT_GRANTED) == 2  # the join's and one of these
    with services.ctx.uow(write=False) as uow:
        assert "languages@exact" in uow.consents.active_items(persona)
        assert set(uow.persona_values.for_persona(persona)) == {"birth_date", "languages"}


# -- 3. no row order links a person's personas -------------------------------------------


def _rows(services: Services) -> dict[tuple[str, str], tuple[bytes, str]]:
    """Each copy's sealed bytes and, on PostgreSQL, the transaction that wrote its row."""
    pv = t.persona_values
    writer = text("xmin::text") if services.engine.dialect.name == "postgresql" else text("''")
    with services.engine.connect() as conn:
        rows = conn.execute(select(pv.c.persona_id, pv.c.attribute, pv.c.sealed, writer)).all()
    return {(p, a): (bytes(sealed), str(xid)) for p, a, sealed, xid in rows}


def _changed(
    before: dict[tuple[str, str], tuple[bytes, str]],
    after: dict[tuple[str, str], tuple[bytes, str]],
) -> set[tuple[str, str]]:
    assert set(before) == set(after)
    return {key for key in before if before[key] != after[key]}


def test_a_change_rewrites_only_the_copies_of_that_attribute(
    services: Services, client: TestClient
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", GUILD)
    alice = register(client, "alice", ALICE)
    in_aurora = join(client, alice, aurora, ["birth_date@age_over_18", "languages@exact"])
    in_guild = join(client, alice, guild, ["occupation@major_group", "birth_date@age_band"])

    before = _rows(services)
    put = client.put("/v1/me/attributes/legal_name", headers=alice, json={"value": "A. Martin"})
    assert put.status_code == 200
    assert _changed(before, _rows(services)) == set()  # no persona discloses it

    before = _rows(services)
    put = client.put("/v1/me/attributes/languages", headers=alice, json={"value": ["en"]})
    assert put.status_code == 200
    assert _changed(before, _rows(services)) == {(in_aurora, "languages")}

    before = _rows(services)
    put = client.put("/v1/me/attributes/birth_date", headers=alice, json={"value": "1990-03-04"})
    assert put.status_code == 200
    assert _changed(before, _rows(services)) == {
        (in_aurora, "birth_date"),
        (in_guild, "birth_date"),
    }


def _rowids(services: Services) -> dict[tuple[str, str], int] | None:
    """SQLite's row id of each copy, or None when the table has none (WITHOUT ROWID)."""
    try:
        with services.engine.connect() as conn:
            rows = conn.execute(text("SELECT persona_id, attribute, rowid FROM persona_values"))
            return {(p, a): int(rowid) for p, a, rowid in rows}
    except OperationalError:
        return None


# SQLite only: PostgreSQL has no row ids (rows one change rewrites share its xmin, see
# the test above and docs/architecture.md).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_row_id_lines_up_the_personas_one_change_rewrites(
    services: Services, client: TestClient
) -> None:
    worlds = [world(services, name, AGE_GATE)[0] for name in ("Aurora", "Borealis", "Cygnus")]
    consent = ["birth_date@age_over_18", "languages@exact"]
    alice = register(client, "alice", ALICE)
    mine = [join(client, alice, w, consent) for w in worlds]
    bob = register(client, "bob", ALICE)
    for w in worlds:
        join(client, bob, w, consent)

    before = _rowids(services)
    put = client.put("/v1/me/attributes/birth_date", headers=alice, json={"value": "1990-03-04"})
    assert put.status_code == 200
    assert client.delete("/v1/me/attributes/languages", headers=alice).status_code == 204
    put = client.put("/v1/me/attributes/languages", headers=alice, json={"value": ["en"]})
    assert put.status_code == 200
    after = _rowids(services)

    if before is None or after is None:
        assert before is None and after is None
        return  # rows sit in key (pseudonym) order; nothing records when they were written
    rewritten = [after[(p, "birth_date")] for p in mine]
    assert rewritten == [before[(p, "birth_date")] for p in mine]  # updated in place
    inserted = sorted(after[(p, "languages")] for p in mine)
    assert inserted[-1] - inserted[0] >= len(inserted), "rows written together line up"


def test_confirming_standing_again_writes_nothing_that_lines_personas_up(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    # Each look at one's standing stamped every persona's assurance row with the same
    # time: one column then grouped a person's personas (found in review).
    worlds = [world(services, name, AGE_GATE)[0] for name in ("Aurora", "Borealis")]
    alice = register(client, "alice", ALICE)
    for w in worlds:
        join(client, alice, w, ["birth_date@age_over_18"])
    assert client.get("/v1/me/standing", headers=alice).status_code == 200
    assert "recorded_at" not in t.standing_assurance.c
    written: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "standing_assurance" in statement and not statement.lstrip().startswith("SELECT"):
            written.append(statement)

    clock.advance(timedelta(hours=1))
    event.listen(services.engine, "before_cursor_execute", note)
    try:
        assert client.get("/v1/me/standing", headers=alice).status_code == 200
    finally:
        event.remove(services.engine, "before_cursor_execute", note)
    assert written == []
    with services.engine.connect() as conn:
        rows = conn.execute(select(t.standing_assurance)).all()
    assert len(rows) == 2
    assert all(set(r._mapping) == {"persona_id", "assurance"} for r in rows)
