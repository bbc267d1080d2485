"""Appeals: the deadline, who may file and who may decide, and what a modified outcome does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient
from tests.helpers import ALICE, PASSWORD, bearer, join, register
from tests.moderation_helpers import decision, door, issue_pass, person_report, policy_world, staff

from personae.bootstrap import Services
from personae.clock import FixedClock


def _decided(services: Services, client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    aurora, key = policy_world(services, client, "Aurora")
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    pass_ = issue_pass(client, alice, persona)
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    assert person_report(client, bob, aurora, persona).status_code == 201
    mod = staff(services, client, "mod.one", aurora)
    [case] = client.get("/v1/moderation/queue", headers=mod).json()["cases"]
    response = client.post(f"/v1/moderation/cases/{case['id']}/decision", headers=mod, json=body)
    assert response.status_code == 201, response.text
    return {
        "world": aurora,
        "key": key,
        "alice": alice,
        "bob": bob,
        "persona": persona,
        "pass": pass_,
        "mod": mod,
        "decision": response.json(),
    }


def _appeal(client: TestClient, who: dict[str, str], decision_id: str) -> Any:
    return client.post(
        f"/v1/me/decisions/{decision_id}/appeal", headers=who, json={"statement": "not me"}
    )


def test_appeal_after_the_deadline_is_409_naming_it(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    s = _decided(services, client, decision("warning", ends_at=None))
    deadline = s["decision"]["appeal_deadline"]
    clock.advance(timedelta(days=184))
    session = client.post("/v1/sessions", json={"handle": "alice", "password": PASSWORD})
    late = _appeal(client, bearer(session.json()["token"]), s["decision"]["id"])
    assert late.status_code == 409
    assert deadline[:10] in late.json()["detail"]


def test_only_the_person_appeals_once_and_another_reviewer_decides(
    services: Services, client: TestClient
) -> None:
    s = _decided(services, client, decision())
    assert _appeal(client, s["bob"], s["decision"]["id"]).status_code == 404
    assert _appeal(client, s["alice"], "dec_unknown").status_code == 404
    filed = _appeal(client, s["alice"], s["decision"]["id"])
    assert filed.status_code == 201
    assert _appeal(client, s["alice"], s["decision"]["id"]).status_code == 409
    url = f"/v1/moderation/appeals/{filed.json()['id']}/decision"
    upheld = {"outcome": "upheld", "reasons": "the recording is clear"}
    assert client.post(url, headers=s["mod"], json=upheld).status_code == 403
    guild, _ = policy_world(services, client, "Guild")
    foreign = staff(services, client, "mod.guild", guild)
    assert client.post(url, headers=foreign, json=upheld).status_code == 404
    second = staff(services, client, "mod.two", s["world"])
    missing_measure = {"outcome": "modified", "reasons": "too harsh"}
    assert client.post(url, headers=second, json=missing_measure).status_code == 422
    assert client.post(url, headers=second, json={**upheld, "reasons": ""}).status_code == 422
    decided = client.post(url, headers=second, json=upheld)
    assert decided.status_code == 200 and decided.json()["outcome"] == "upheld"
    assert client.post(url, headers=second, json=upheld).status_code == 409
    # Upheld: the door stays shut.
    assert door(services, client, s["world"], s["key"], *s["pass"]) == 401


def test_a_modified_outcome_replaces_the_measure(services: Services, client: TestClient) -> None:
    s = _decided(services, client, decision("ban", ends_at=None))
    filed = _appeal(client, s["alice"], s["decision"]["id"])
    second = staff(services, client, "mod.two", s["world"])
    modified = client.post(
        f"/v1/moderation/appeals/{filed.json()['id']}/decision",
        headers=second,
        json={"outcome": "modified", "reasons": "first offence", "measure": "warning"},
    )
    assert modified.status_code == 200, modified.text
    assert modified.json()["modified_measure"] == "warning"
    # A warning does not keep the door shut: the pass the ban revoked opens it again.
    assert door(services, client, s["world"], s["key"], *s["pass"]) == 200
    standing = client.get(
        f"/v1/worlds/me/personas/{s['persona']}/standing", headers=bearer(s["key"])
    ).json()
    assert standing["measures"] == []
    notices = client.get("/v1/me/notices", headers=s["alice"]).json()
    [outcome] = [n for n in notices if n["kind"] == "moderation.appeal_outcome"]
    assert outcome["body"]["measure_now"] == "warning"
