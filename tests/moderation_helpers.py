"""Builders for moderation tests: a world with a policy, moderators, passes, door checks."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, PASSWORD, bearer, world

from personae.bootstrap import Services
from personae.crypto.jose import public_jwk
from personae.domain.staff import Role
from personae.verify import present

CLAUSES: list[dict[str, str]] = [
    {"id": "harassment", "title": "Harassment", "text": "Do not harass.", "severity": "medium"},
    {"id": "spam", "title": "Spam", "text": "Do not spam.", "severity": "low"},
    {"id": "fraud", "title": "Fraud", "text": "Do not defraud.", "severity": "high"},
]


def policy_world(services: Services, client: TestClient, name: str) -> tuple[str, str]:
    """A world with AGE_GATE terms and a published policy; (world id, API key)."""
    world_id, key = world(services, name, AGE_GATE)
    response = client.put("/v1/worlds/me/policy", headers=bearer(key), json={"clauses": CLAUSES})
    assert response.status_code == 201, response.text
    return world_id, key


def staff(
    services: Services,
    client: TestClient,
    username: str,
    world_id: str | None = None,
    role: Role = Role.MODERATOR,
) -> dict[str, str]:
    """A staff member (a world moderator, or platform trust & safety without a world)."""
    services.staff.create(username, PASSWORD, role, world_id)
    response = client.post("/v1/staff/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def person_report(
    client: TestClient,
    who: dict[str, str],
    world_id: str,
    persona_id: str,
    clause_id: str = "harassment",
    clause_scope: str = "world",
) -> Any:
    return client.post(
        "/v1/me/reports",
        headers=who,
        json={
            "world_id": world_id,
            "persona_id": persona_id,
            "clause_scope": clause_scope,
            "clause_id": clause_id,
            "location": "the plaza fountain",
            "explanation": "repeated insults in voice chat",
            "good_faith": True,
        },
    )


def decision(
    measure: str = "suspension",
    *,
    ends_at: str | None = "2026-12-03T12:00:00+00:00",
    clause_id: str = "harassment",
    scope: str = "world",
    clause_scope: str = "world",
) -> dict[str, Any]:
    return {
        "measure": measure,
        "scope": scope,
        "facts": "three reports of insults in voice chat, confirmed by the recording",
        "clauses": [
            {"scope": clause_scope, "clause_id": clause_id, "explanation": "insults are harassment"}
        ],
        "ends_at": ends_at,
    }


def issue_pass(client: TestClient, who: dict[str, str], persona_id: str) -> tuple[str, Any]:
    holder = ec.generate_private_key(ec.SECP256R1())
    response = client.post(
        f"/v1/me/personas/{persona_id}/passes", headers=who, json={"holder_jwk": public_jwk(holder)}
    )
    assert response.status_code == 201, response.text
    return response.json()["sd_jwt"], holder


def door(
    services: Services, client: TestClient, world_id: str, key: str, sd_jwt: str, holder: Any
) -> int:
    """Present a pass at the world's door online; the HTTP status."""
    nonce = client.post("/v1/worlds/me/nonces", headers=bearer(key)).json()["nonce"]
    presentation = present(
        sd_jwt,
        holder,
        audience=world_id,
        nonce=nonce,
        disclose=[],
        issued_at=services.ctx.clock.now(),
    )
    response = client.post(
        "/v1/worlds/me/door-check",
        headers=bearer(key),
        json={"presentation": presentation, "nonce": nonce},
    )
    return response.status_code
