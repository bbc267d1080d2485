"""Policies: versioned, public, validated; the platform policy ships with version 1."""

from __future__ import annotations

from starlette.testclient import TestClient
from tests.helpers import ALICE, bearer, join, register
from tests.moderation_helpers import CLAUSES, person_report, policy_world, staff

from personae.bootstrap import Services
from personae.domain.staff import Role


def test_versions_are_public_and_reports_cite_the_one_in_force(
    services: Services, client: TestClient
) -> None:
    aurora, key = policy_world(services, client, "Aurora")
    revised = [
        *CLAUSES[:2],
        {"id": "griefing", "title": "Griefing", "text": "No.", "severity": "low"},
    ]
    second = client.put("/v1/worlds/me/policy", headers=bearer(key), json={"clauses": revised})
    assert second.status_code == 201 and second.json()["version"] == 2
    versions = client.get(f"/v1/worlds/{aurora}/policy").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert [c["id"] for c in versions[0]["clauses"]] == ["harassment", "spam", "fraud"]
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    # "fraud" is no longer in force; "griefing" is.
    retired = person_report(client, bob, aurora, persona, "fraud")
    assert retired.status_code == 422 and retired.json()["errors"][0]["loc"] == ["clause_id"]
    current = person_report(client, bob, aurora, persona, "griefing")
    assert current.status_code == 201 and current.json()["policy_version"] == 2
    assert client.get("/v1/worlds/w_unknown/policy").status_code == 404


def test_platform_policy_and_who_may_publish_it(services: Services, client: TestClient) -> None:
    shipped = client.get("/v1/platform/policy").json()
    assert [v["version"] for v in shipped] == [1]
    assert {c["id"] for c in shipped[0]["clauses"]} == {
        "violence-threats",
        "child-safety",
        "fraud-ring",
    }
    body = {"clauses": [*shipped[0]["clauses"], CLAUSES[2]]}
    moderator = staff(services, client, "trust.safety")
    assert client.put("/v1/platform/policy", headers=moderator, json=body).status_code == 403
    admin = staff(services, client, "root", role=Role.ADMIN)
    published = client.put("/v1/platform/policy", headers=admin, json=body)
    assert published.status_code == 201 and published.json()["version"] == 2


def test_bad_policies_are_422(services: Services, client: TestClient) -> None:
    _, key = policy_world(services, client, "Aurora")
    bad = [
        [],
        [{**CLAUSES[0], "id": "Not An Id"}],
        [CLAUSES[0], CLAUSES[0]],
        [{**CLAUSES[0], "severity": "apocalyptic"}],
        [{**CLAUSES[0], "title": " "}],
    ]
    for clauses in bad:
        response = client.put(
            "/v1/worlds/me/policy", headers=bearer(key), json={"clauses": clauses}
        )
        assert response.status_code == 422, clauses
