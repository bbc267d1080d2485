"""Bad input gets a clear problem+json answer and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, PASSWORD, bearer, join, register, world

from personae.bootstrap import Services
from personae.store import tables as t


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:personae:problem:{code}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def _row_counts(services: Services) -> dict[str, int]:
    with services.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in t.metadata.sorted_tables
        }


@pytest.mark.parametrize(
    ("attributes", "code", "loc"),
    [
        ({"shoe_size": 42}, "unknown-attribute", None),
        ({"birth_date": "1850-01-01"}, "invalid-input", ["attributes", "birth_date"]),
        ({"birth_date": "12/04/1991"}, "invalid-input", ["attributes", "birth_date"]),
        ({"birth_date": "1991-02-30"}, "invalid-input", ["attributes", "birth_date"]),
        ({"years_of_experience": "ten"}, "invalid-input", ["attributes", "years_of_experience"]),
        ({"years_of_experience": 81}, "invalid-input", ["attributes", "years_of_experience"]),
        ({"country_of_residence": "XX"}, "invalid-input", ["attributes", "country_of_residence"]),
        ({"languages": "fr"}, "invalid-input", ["attributes", "languages"]),
    ],
)
def test_bad_attribute_values_are_refused_and_nothing_is_written(
    services: Services,
    client: TestClient,
    attributes: dict[str, Any],
    code: str,
    loc: list[Any] | None,
) -> None:
    before = _row_counts(services)
    response = client.post(
        "/v1/persons", json={"handle": "alice", "password": PASSWORD, "attributes": attributes}
    )
    body = _problem(response, 422, code)
    if loc is not None:
        assert body["errors"][0]["loc"][:2] == loc
    assert _row_counts(services) == before


def test_bad_value_on_update_names_the_field(services: Services, client: TestClient) -> None:
    alice = register(client, "alice", ALICE)
    response = client.put("/v1/me/attributes/birth_date", headers=alice, json={"value": 1991})
    body = _problem(response, 422, "invalid-input")
    assert body["errors"][0]["loc"][:2] == ["attributes", "birth_date"]
    unknown = client.put("/v1/me/attributes/shoe_size", headers=alice, json={"value": 1})
    _problem(unknown, 422, "unknown-attribute")


def test_weak_password(client: TestClient) -> None:
    for password in ("short", "aaaaaaaaaaaaaaaa", "alice-is-my-name-123"):
        response = client.post("/v1/persons", json={"handle": "alice", "password": password})
        body = _problem(response, 422, "weak-password")
        assert body["errors"][0]["loc"] == ["password"]


def test_malformed_body_is_a_validation_problem_without_echo(client: TestClient) -> None:
    response = client.post("/v1/persons", json={"handle": "alice", "password": 12345678901234567})
    body = _problem(response, 422, "invalid-input")
    assert body["errors"][0]["loc"] == ["body", "password"]
    assert "12345678901234567" not in response.text
    extra = client.post("/v1/persons", json={"handle": "a", "password": "b", "admin": True})
    _problem(extra, 422, "invalid-input")
    not_json = client.post(
        "/v1/persons", content=b"{", headers={"content-type": "application/json"}
    )
    _problem(not_json, 422, "invalid-input")


def test_body_over_64_kib_is_413(client: TestClient) -> None:
    big = b'{"handle": "' + b"a" * (65 * 1024) + b'"}'
    response = client.post("/v1/persons", content=big, headers={"content-type": "application/json"})
    _problem(response, 413, "payload-too-large")

    def chunks() -> Any:
        for _ in range(70):
            yield b" " * 1024

    streamed = client.post(
        "/v1/persons", content=chunks(), headers={"content-type": "application/json"}
    )
    _problem(streamed, 413, "payload-too-large")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Basic abc"},
        {"authorization": "Bearer pst_wrong"},
        {"authorization": "Bearer "},
    ],
)
def test_missing_or_wrong_credentials_are_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/v1/me", headers=headers)
    _problem(response, 401, "not-authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    world_api = client.get("/v1/worlds/me/personas/" + "a" * 32, headers=headers)
    _problem(world_api, 401, "not-authenticated")


def test_wrong_password_and_unknown_handle_answer_alike(client: TestClient) -> None:
    register(client, "alice", ALICE)
    wrong = client.post("/v1/sessions", json={"handle": "alice", "password": "not the password!"})
    unknown = client.post(
        "/v1/sessions", json={"handle": "nobody", "password": "not the password!"}
    )
    assert _problem(wrong, 401, "not-authenticated") == _problem(unknown, 401, "not-authenticated")


def test_other_worlds_persona_and_unknown_persona_get_identical_404(
    services: Services, client: TestClient
) -> None:
    aurora, aurora_key = world(services, "Aurora", AGE_GATE)
    guild, guild_key = world(services, "Guild", AGE_GATE)
    alice = register(client, "alice", ALICE)
    in_guild = join(client, alice, guild, ["birth_date@age_over_18"])
    other = client.get(f"/v1/worlds/me/personas/{in_guild}", headers=bearer(aurora_key))
    unknown = client.get("/v1/worlds/me/personas/" + "a" * 32, headers=bearer(aurora_key))
    malformed = client.get("/v1/worlds/me/personas/not-a-persona", headers=bearer(aurora_key))
    bodies = [_problem(r, 404, "not-found") for r in (other, unknown, malformed)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert (
        client.get(f"/v1/worlds/me/personas/{in_guild}", headers=bearer(guild_key)).status_code
        == 200
    )
    assert aurora


def test_a_persons_consent_routes_do_not_reach_anothers_persona(
    services: Services, client: TestClient
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    response = client.delete(
        f"/v1/me/personas/{persona}/consents/birth_date@age_over_18", headers=bob
    )
    _problem(response, 404, "not-found")


def test_duplicate_person_is_409_and_reveals_nothing(
    services: Services, client: TestClient
) -> None:
    register(client, "alice", ALICE)
    before = _row_counts(services)
    response = client.post("/v1/persons", json={"handle": "Alice", "password": PASSWORD})
    body = _problem(response, 409, "already-registered")
    assert "alice" not in body["detail"].lower().replace("handle", "")
    assert _row_counts(services) == before


def test_join_without_a_required_consent_is_422(services: Services, client: TestClient) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    before = _row_counts(services)
    response = client.post(
        "/v1/me/personas", headers=alice, json={"world_id": aurora, "consent": ["languages@exact"]}
    )
    body = _problem(response, 422, "consent-required")
    assert "birth_date@age_over_18" in body["detail"]
    not_asked = client.post(
        "/v1/me/personas",
        headers=alice,
        json={"world_id": aurora, "consent": ["birth_date@age_over_18", "legal_name@exact"]},
    )
    _problem(not_asked, 422, "invalid-input")
    assert _row_counts(services) == before


def test_join_needs_the_attribute_a_required_item_derives_from(
    services: Services, client: TestClient
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    nobody = register(client, "nobody", {})
    response = client.post(
        "/v1/me/personas",
        headers=nobody,
        json={"world_id": aurora, "consent": ["birth_date@age_over_18"]},
    )
    _problem(response, 422, "missing-attribute")
    unknown_world = client.post(
        "/v1/me/personas", headers=nobody, json={"world_id": "w_nope", "consent": []}
    )
    _problem(unknown_world, 404, "not-found")


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    _problem(client.get("/v1/nothing-here"), 404, "not-found")
    _problem(client.put("/healthz"), 405, "method-not-allowed")


def test_an_unexpected_failure_is_500_without_trace_or_message(
    services: Services,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret-value-in-message")

    monkeypatch.setattr(services.worlds, "list_worlds", explode)
    response = client.get("/v1/worlds")
    body = _problem(response, 500, "internal")
    assert "secret-value-in-message" not in response.text
    assert "secret-value-in-message" not in caplog.text
    assert "RuntimeError" in caplog.text
    assert "incident" in body["detail"]
