"""The registry's main path over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from starlette.testclient import TestClient
from tests.helpers import (
    AGE_GATE,
    ALICE,
    GUILD,
    PASSWORD,
    admin_header,
    bearer,
    join,
    register,
    world,
)

from personae.bootstrap import Services
from personae.clock import FixedClock


def test_register_join_resolve_and_see_disclosures(services: Services, client: TestClient) -> None:
    aurora, aurora_key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)

    profile = client.get("/v1/me", headers=alice).json()
    assert profile["assurance"] == "IAL1"
    assert {a["name"]: a["value"] for a in profile["attributes"]}["birth_date"] == "1991-04-12"
    assert {a["name"]: a["category"] for a in profile["attributes"]}["occupation"] == "social"

    terms = client.get(f"/v1/worlds/{aurora}").json()
    assert [i["item"] for i in terms["purposes"][0]["items"]] == [
        "birth_date@age_over_18",
        "languages@exact",
    ]

    persona = join(client, alice, aurora, ["birth_date@age_over_18"])  # declines languages
    seen = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(aurora_key))
    assert seen.status_code == 200
    assert seen.json() == {
        "persona_id": persona,
        "items": {"birth_date@age_over_18": True},
        "withheld": [],
    }
    assert "1991" not in seen.text

    log = client.get("/v1/me/disclosures", headers=alice).json()
    assert [(d["world_id"], d["items"]) for d in log] == [(aurora, ["birth_date@age_over_18"])]


def test_rejoining_returns_the_same_persona(services: Services, client: TestClient) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    first = client.post(
        "/v1/me/personas",
        headers=alice,
        json={"world_id": aurora, "consent": ["birth_date@age_over_18"]},
    )
    again = client.post(
        "/v1/me/personas",
        headers=alice,
        json={"world_id": aurora, "consent": ["birth_date@age_over_18"]},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["persona_id"] == again.json()["persona_id"]
    assert len(client.get("/v1/me/personas", headers=alice).json()) == 1


def test_consent_withdrawn_and_granted_item_by_item(services: Services, client: TestClient) -> None:
    aurora, key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18", "languages@exact"])
    items = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).json()["items"]
    assert items == {"birth_date@age_over_18": True, "languages@exact": ["fr", "en"]}

    out = client.delete(f"/v1/me/personas/{persona}/consents/languages@exact", headers=alice)
    assert out.status_code == 200
    withdrawn = {c["item"]: c["withdrawn_at"] for c in out.json()["consents"]}
    assert withdrawn["languages@exact"] is not None
    items = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).json()["items"]
    assert items == {"birth_date@age_over_18": True}

    back = client.put(f"/v1/me/personas/{persona}/consents/languages@exact", headers=alice)
    assert back.status_code == 200
    items = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).json()["items"]
    assert items["languages@exact"] == ["fr", "en"]


def test_attribute_changes_reach_the_world_derived_fresh(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, key = world(services, "Aurora", AGE_GATE)
    teen = register(client, "teen", {"birth_date": "2008-11-27"})
    # Consent to an item whose value is missing is allowed for optional items only.
    persona = join(client, teen, aurora, ["birth_date@age_over_18", "languages@exact"])
    answer = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).json()
    assert answer["items"] == {"birth_date@age_over_18": False}
    assert answer["withheld"] == ["languages@exact"]

    from datetime import timedelta

    clock.advance(timedelta(days=1))  # the 18th birthday
    answer = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).json()
    assert answer["items"] == {"birth_date@age_over_18": True}

    signed_in = client.post("/v1/sessions", json={"handle": "teen", "password": PASSWORD})
    teen = bearer(signed_in.json()["token"])  # the first session expired with the day
    assert (
        client.put("/v1/me/attributes/languages", headers=teen, json={"value": ["de"]}).status_code
        == 200
    )
    answer = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).json()
    assert answer["items"]["languages@exact"] == ["de"]
    assert client.delete("/v1/me/attributes/languages", headers=teen).status_code == 204
    answer = client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(key)).json()
    assert answer["withheld"] == ["languages@exact"]


def test_admin_registers_a_world_over_http_and_gets_the_key_once(
    services: Services, client: TestClient
) -> None:
    admin = admin_header(services, client)
    response = client.post(
        "/v1/admin/worlds",
        headers=admin,
        json={"name": "Guildhall", "contact": "trust@guildhall.example", "purposes": GUILD},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["api_key"].startswith("pwk_")
    listed = client.get("/v1/worlds").json()
    assert [w["name"] for w in listed] == ["Guildhall"]
    assert "api_key" not in listed[0]
    dup = client.post(
        "/v1/admin/worlds",
        headers=admin,
        json={"name": "Guildhall", "contact": "x@y.example", "purposes": GUILD},
    )
    assert dup.status_code == 409


def test_sign_in_sign_out(services: Services, client: TestClient) -> None:
    register(client, "alice", ALICE)
    session = client.post(
        "/v1/sessions", json={"handle": "ALICE", "password": "a long test passphrase"}
    )
    assert session.status_code == 201
    who = bearer(session.json()["token"])
    assert client.get("/v1/me", headers=who).status_code == 200
    assert client.delete("/v1/sessions/current", headers=who).status_code == 204
    assert client.get("/v1/me", headers=who).status_code == 401


def test_sessions_expire(services: Services, client: TestClient, clock: FixedClock) -> None:
    from datetime import timedelta

    alice = register(client, "alice", ALICE)
    clock.advance(timedelta(seconds=services.settings.session_ttl_seconds + 1))
    assert client.get("/v1/me", headers=alice).status_code == 401


def test_a_staff_token_is_not_a_person_token(services: Services, client: TestClient) -> None:
    admin = admin_header(services, client)
    assert client.get("/v1/me", headers=admin).status_code == 401
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
