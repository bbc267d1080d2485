"""Small builders shared by tests: a world, a person, a signed-in header."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from personae.bootstrap import Services
from personae.domain.staff import Role

PASSWORD = "a long test passphrase"

AGE_GATE: list[dict[str, Any]] = [
    {
        "name": "age gate",
        "description": "adults only",
        "items": [
            {"item": "birth_date@age_over_18", "required": True, "why": "adult world"},
            {"item": "languages@exact", "required": False, "why": "room suggestions"},
        ],
    }
]

GUILD: list[dict[str, Any]] = [
    {
        "name": "professional rooms",
        "description": "rooms by profession",
        "items": [
            {"item": "occupation@major_group", "required": True, "why": "room access"},
            {"item": "birth_date@age_band", "required": False, "why": "mentoring"},
        ],
    }
]

ALICE: dict[str, Any] = {
    "birth_date": "1991-04-12",
    "country_of_residence": "FR",
    "languages": ["fr", "en"],
    "legal_name": "Alice Quintessa Martin",
    "occupation": "2512",
    "affiliation": "Observatoire de Lyon",
}


def world(services: Services, name: str, purposes: list[dict[str, Any]]) -> tuple[str, str]:
    """Register a world; (world id, API key)."""
    registered = services.worlds.register_unchecked(name, f"ops@{name.lower()}.example", purposes)
    return registered.world.id, registered.api_key


def register(
    client: TestClient, handle: str, attributes: dict[str, Any] | None = None
) -> dict[str, str]:
    """Register over HTTP; the person's authorization header."""
    response = client.post(
        "/v1/persons",
        json={"handle": handle, "password": PASSWORD, "attributes": attributes or {}},
    )
    assert response.status_code == 201, response.text
    return {"authorization": f"Bearer {response.json()['session']['token']}"}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def admin_header(services: Services, client: TestClient) -> dict[str, str]:
    services.staff.create("admin", PASSWORD, Role.ADMIN)
    response = client.post("/v1/staff/sessions", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def join(client: TestClient, who: dict[str, str], world_id: str, consent: list[str]) -> str:
    response = client.post(
        "/v1/me/personas", headers=who, json={"world_id": world_id, "consent": consent}
    )
    assert response.status_code in (200, 201), response.text
    persona_id: str = response.json()["persona_id"]
    return persona_id


def issued_status_path(services: Services, issued: dict[str, Any]) -> str:
    """The status list path of a pass issued over HTTP (its ``pass_id``)."""
    with services.ctx.uow(write=False) as uow:
        record = uow.passes.get(issued["pass_id"])
    assert record is not None
    return f"/v1/status-lists/{record.status_list_id}"
