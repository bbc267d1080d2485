"""Standing per persona per world: from age, assurance and upheld decisions in that world only."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient
from tests.helpers import ALICE, PASSWORD, bearer, join, register
from tests.moderation_helpers import decision, person_report, policy_world, staff

from personae.bootstrap import Services
from personae.clock import FixedClock


def _tiers(client: TestClient, who: dict[str, str]) -> dict[str, str]:
    return {s["world_id"]: s["tier"] for s in client.get("/v1/me/standing", headers=who).json()}


def test_changing_any_attribute_never_changes_standing(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, key = policy_world(services, client, "Aurora")
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18", "languages@exact"])
    clock.advance(timedelta(days=40))
    alice = _sign_in(client)

    def both() -> tuple[object, object]:
        mine = client.get("/v1/me/standing", headers=alice).json()
        world = client.get(f"/v1/worlds/me/personas/{persona}/standing", headers=bearer(key))
        return mine, world.json()

    before = both()
    assert before[1]["tier"] == "member"
    changes = {
        "birth_date": "1950-02-03",
        "country_of_residence": "DE",
        "languages": ["de"],
        "occupation": "9111",
        "affiliation": "Somewhere Else",
        "legal_name": "Someone Else",
    }
    for name, value in changes.items():
        response = client.put(f"/v1/me/attributes/{name}", headers=alice, json={"value": value})
        assert response.status_code == 200, response.text
        assert both() == before, name
    for name in changes:
        assert client.delete(f"/v1/me/attributes/{name}", headers=alice).status_code == 204
        assert both() == before, name


def test_tiers_follow_age_and_conduct_in_that_world_only(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = policy_world(services, client, "Aurora")
    guild, guild_key = policy_world(services, client, "Guild")
    alice = register(client, "alice", ALICE)
    in_aurora = join(client, alice, aurora, ["birth_date@age_over_18"])
    in_guild = join(client, alice, guild, ["birth_date@age_over_18"])
    assert _tiers(client, alice) == {aurora: "new", guild: "new"}
    clock.advance(timedelta(days=31))
    alice = _sign_in(client)
    assert _tiers(client, alice) == {aurora: "member", guild: "member"}

    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    assert person_report(client, bob, aurora, in_aurora, "fraud").status_code == 201
    mod = staff(services, client, "mod.one", aurora)
    [case] = client.get("/v1/moderation/queue", headers=mod).json()["cases"]
    body = decision("warning", ends_at=None, clause_id="fraud")
    response = client.post(f"/v1/moderation/cases/{case['id']}/decision", headers=mod, json=body)
    assert response.status_code == 201
    # A high-severity strike restricts Alice in Aurora and nowhere else.
    assert _tiers(client, alice) == {aurora: "restricted", guild: "member"}
    mine = {s["world_id"]: s for s in client.get("/v1/me/standing", headers=alice).json()}
    assert "weight of strikes in force in this world: 3" in mine[aurora]["reasons"]
    guild_view = client.get(
        f"/v1/worlds/me/personas/{in_guild}/standing", headers=bearer(guild_key)
    )
    assert guild_view.json()["tier"] == "member"
    # The strike expires (high: a year): restricted no more.
    clock.advance(timedelta(days=366))
    alice = _sign_in(client)
    assert _tiers(client, alice)[aurora] == "member"


def _sign_in(client: TestClient) -> dict[str, str]:
    session = client.post("/v1/sessions", json={"handle": "alice", "password": PASSWORD})
    assert session.status_code == 201, session.text
    return bearer(session.json()["token"])
