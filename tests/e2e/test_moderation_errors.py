"""Bad input on the moderation path: incomplete statements, foreign cases, unknown personas,
and two reviewers deciding one case at once (both databases)."""

from __future__ import annotations

import threading
from typing import Any

from starlette.testclient import TestClient
from tests.helpers import ALICE, bearer, join, register
from tests.moderation_helpers import decision, person_report, policy_world, staff

from personae.bootstrap import Services
from personae.domain.staff import Role


def _case(services: Services, client: TestClient) -> dict[str, Any]:
    aurora, key = policy_world(services, client, "Aurora")
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    assert person_report(client, bob, aurora, persona).status_code == 201
    mod = staff(services, client, "mod.one", aurora)
    [case] = client.get("/v1/moderation/queue", headers=mod).json()["cases"]
    return {"world": aurora, "key": key, "persona": persona, "mod": mod, "case": case["id"]}


def _locs(response: Any) -> list[list[Any]]:
    return [e["loc"] for e in response.json().get("errors", [])]


def test_statement_of_reasons_is_complete_or_422(services: Services, client: TestClient) -> None:
    s = _case(services, client)
    url = f"/v1/moderation/cases/{s['case']}/decision"
    no_clause = {**decision(), "clauses": []}
    response = client.post(url, headers=s["mod"], json=no_clause)
    assert response.status_code == 422 and ["clauses"] in _locs(response)
    no_reasons = {**decision(), "facts": " "}
    no_reasons["clauses"] = [{"clause_id": "harassment", "explanation": ""}]
    response = client.post(url, headers=s["mod"], json=no_reasons)
    assert response.status_code == 422
    assert ["facts"] in _locs(response) and ["clauses", 0, "explanation"] in _locs(response)
    backwards = {**decision(), "starts_at": "2026-12-01T00:00:00+00:00"}
    backwards["ends_at"] = "2026-11-30T00:00:00+00:00"
    response = client.post(url, headers=s["mod"], json=backwards)
    assert response.status_code == 422 and ["ends_at"] in _locs(response)
    endless = decision(ends_at=None)
    assert client.post(url, headers=s["mod"], json=endless).status_code == 422
    unknown = decision(clause_id="no-such-clause")
    response = client.post(url, headers=s["mod"], json=unknown)
    assert response.status_code == 422 and ["clauses", 0, "clause_id"] in _locs(response)
    short_window = {**decision(), "appeal_window_days": 30}
    assert client.post(url, headers=s["mod"], json=short_window).status_code == 422
    # None of these decided anything: the case is still open and can be decided once.
    assert client.post(url, headers=s["mod"], json=decision()).status_code == 201
    assert client.post(url, headers=s["mod"], json=decision()).status_code == 409


def test_a_moderator_of_another_world_gets_404(services: Services, client: TestClient) -> None:
    s = _case(services, client)
    guild, _ = policy_world(services, client, "Guild")
    other = staff(services, client, "mod.guild", guild)
    base = f"/v1/moderation/cases/{s['case']}"
    assert client.get(base, headers=other).status_code == 404
    assert client.post(f"{base}/decision", headers=other, json=decision()).status_code == 404
    assert client.post(f"{base}/assign", headers=other).status_code == 404
    note = {"text": "hello", "visibility": "internal"}
    assert client.post(f"{base}/notes", headers=other, json=note).status_code == 404
    assert client.get("/v1/moderation/queue", headers=other).json()["cases"] == []
    unknown = client.get("/v1/moderation/cases/case_0000", headers=other)
    assert unknown.json() == client.get(base, headers=other).json()
    admin = staff(services, client, "root", role=Role.ADMIN)
    assert client.get(base, headers=admin).status_code == 403


def test_unknown_and_foreign_personas_are_the_same_404(
    services: Services, client: TestClient
) -> None:
    s = _case(services, client)
    guild, guild_key = policy_world(services, client, "Guild")
    bob = register(client, "carol", {"birth_date": "1990-01-01"})
    unknown = person_report(client, bob, s["world"], "a" * 32)
    foreign = person_report(client, bob, guild, s["persona"])
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()
    body = {
        "persona_id": s["persona"],
        "clause_id": "harassment",
        "location": "x",
        "explanation": "y",
        "good_faith": True,
    }
    from_guild = client.post("/v1/worlds/me/reports", headers=bearer(guild_key), json=body)
    assert from_guild.status_code == 404 and from_guild.json() == unknown.json()
    assert person_report(client, bob, s["world"], s["persona"]).status_code == 201
    bad_faith = client.post(
        "/v1/worlds/me/reports", headers=bearer(s["key"]), json={**body, "good_faith": False}
    )
    assert bad_faith.status_code == 422


def test_two_moderators_deciding_at_once_make_one_decision(
    services: Services, client: TestClient
) -> None:
    s = _case(services, client)
    second = staff(services, client, "mod.two", s["world"])
    url = f"/v1/moderation/cases/{s['case']}/decision"
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def attempt(headers: dict[str, str]) -> None:
        barrier.wait()
        statuses.append(client.post(url, headers=headers, json=decision()).status_code)

    threads = [threading.Thread(target=attempt, args=(h,)) for h in (s["mod"], second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    with services.ctx.uow(write=False) as uow:
        assert uow.moderation.decisions.for_case(s["case"]) is not None
        assert len(uow.moderation.sanctions.in_force(s["persona"], services.ctx.clock.now())) == 1
