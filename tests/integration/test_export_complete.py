"""The export is complete: moderation of one's own personas, one's reports and standing as a
reporter, and the whole disclosure log (no silent cap), read in one read-only unit of work."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.conftest import START
from tests.helpers import AGE_GATE, ALICE, join, register, world
from tests.moderation_helpers import decision, person_report, policy_world, staff

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.vault import person_owner
from personae.domain.persons import normalize_handle
from personae.services import export
from personae.services.auth import PersonPrincipal
from personae.store.uow import UnitOfWork


def _person_id(services: Services, handle: str) -> str:
    hashed = services.ctx.pseudonyms.lookup("handle", normalize_handle(handle))
    with services.ctx.uow(write=False) as uow:
        person = uow.persons.by_handle_hash(hashed)
    assert person is not None
    return person.id


def test_export_holds_sanctions_strikes_appeals_reports_and_reporter_standing(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = policy_world(services, client, "Aurora")
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    bob_persona = join(client, bob, aurora, ["birth_date@age_over_18"])
    filed = person_report(client, bob, aurora, persona)
    assert filed.status_code == 201, filed.text
    report_id = filed.json()["report_id"]
    mod = staff(services, client, "mod.one", aurora)
    [case] = client.get("/v1/moderation/queue", headers=mod).json()["cases"]
    note = {"text": "thank you, we acted", "visibility": "reporter"}
    assert client.post(
        f"/v1/moderation/cases/{case['id']}/notes", headers=mod, json=note
    ).is_success
    internal = {"text": "internal only", "visibility": "internal"}
    url = f"/v1/moderation/cases/{case['id']}/notes"
    assert client.post(url, headers=mod, json=internal).is_success
    decided = client.post(
        f"/v1/moderation/cases/{case['id']}/decision", headers=mod, json=decision()
    )
    assert decided.status_code == 201, decided.text
    decision_id = decided.json()["id"]
    appeal = client.post(
        f"/v1/me/decisions/{decision_id}/appeal", headers=alice, json={"statement": "not me"}
    )
    assert appeal.status_code == 201, appeal.text
    second = staff(services, client, "mod.two", aurora)
    modified = client.post(
        f"/v1/moderation/appeals/{appeal.json()['id']}/decision",
        headers=second,
        json={"outcome": "modified", "reasons": "first offence", "measure": "warning"},
    )
    assert modified.status_code == 200, modified.text
    # A second report from bob, later, on a case not decided yet.
    clock.advance(timedelta(hours=1))
    assert person_report(client, bob, aurora, persona, "spam").status_code == 201
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:  # bob's standing as a reporter (DSA Art. 23)
        bob_address = person_owner(_person_id(services, "bob"))
        uow.moderation.reporters.count_unfounded(bob_address, 3)
        uow.moderation.reporters.mark(
            bob_address, warned_at=now, deprioritised_until=now + timedelta(days=30)
        )

    doc = client.get("/v1/me/export", headers=alice).json()
    [sanction] = doc["sanctions"]
    assert sanction["persona_id"] == persona and sanction["measure"] == "suspension"
    assert sanction["starts_at"] is not None and sanction["ends_at"] is not None
    assert sanction["lifted_at"] is not None  # modified to a warning on appeal: lifted
    assert all(s["persona_id"] == persona for s in doc["strikes"])
    assert [s["decision_id"] for s in doc["strikes"]] == [decision_id]
    [appealed] = doc["appeals"]
    assert appealed["decision_id"] == decision_id and appealed["statement"] == "not me"
    assert appealed["status"] == "decided" and appealed["outcome"] == "modified"
    assert appealed["reasons"] == "first offence" and appealed["modified_measure"] == "warning"
    assert "modified_ends_at" in appealed and "handled_by" not in appealed
    assert doc["reports"] == [] and doc["reporter_standing"] is None

    bob_doc = client.get("/v1/me/export", headers=bob).json()
    first, pending = bob_doc["reports"]
    assert first["report_id"] == report_id
    assert first["clause"] == {"scope": "world", "id": "harassment"}
    assert first["received_at"] is not None
    assert first["outcome"] == {
        "decided": True,
        "measure": "suspension",
        "clauses": ["harassment"],
        "notes": ["thank you, we acted"],
    }
    assert pending["clause"]["id"] == "spam" and pending["outcome"]["decided"] is False
    assert bob_doc["reporter_standing"] == {
        "unfounded_reports": 3,
        "warned_at": now.isoformat(),
        "deprioritised_until": (now + timedelta(days=30)).isoformat(),
    }
    # A reporter never learns whom they reported beyond what they wrote, nor the case.
    text = json.dumps(bob_doc["reports"])
    assert persona not in text and case["id"] not in text and "internal only" not in text
    assert bob_doc["sanctions"] == [] and bob_doc["strikes"] == [] and bob_doc["appeals"] == []
    assert {p["persona_id"] for p in bob_doc["personas"]} == {bob_persona}
    assert persona not in json.dumps(bob_doc)


def test_export_holds_the_whole_disclosure_log_newest_first(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More rows than the old cap (lowered here) and than a page: all of them, newest first,
    ties on one instant broken by insertion order (the keyset's id), nobody else's."""
    monkeypatch.setattr(export, "MAX_ROWS", 7)
    monkeypatch.setattr(export, "PAGE", 3, raising=False)
    aurora, _ = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", AGE_GATE)
    alice = register(client, "alice", ALICE)
    mine = [join(client, alice, w, ["birth_date@age_over_18"]) for w in (aurora, guild)]
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    theirs = join(client, bob, aurora, ["birth_date@age_over_18"])
    expected: list[tuple[str, str, int]] = []
    with services.ctx.uow() as uow:
        for i in range(20):
            at = START + timedelta(minutes=i // 3)  # three rows share each instant
            persona_id = mine[i % 2]
            uow.disclosures.add(persona_id, aurora if i % 2 == 0 else guild, at, [f"i{i}"])
            uow.disclosures.add(theirs, aurora, at, ["not alice's"])
            expected.append((at.isoformat(), persona_id, i))

    doc = client.get("/v1/me/export", headers=alice).json()
    got = [(d["at"], d["persona_id"], d["items"]) for d in doc["disclosures"]]
    want = [(at, p, [f"i{i}"]) for at, p, i in sorted(expected, key=lambda e: (e[0], e[2]))]
    assert got == want[::-1]
    assert "truncated" not in doc


def test_export_reads_in_one_read_only_unit_of_work(services: Services, client: TestClient) -> None:
    register(client, "alice", ALICE)
    person_id = _person_id(services, "alice")
    calls: list[dict[str, Any]] = []
    original: Callable[..., UnitOfWork] = services.ctx.uow

    def counting(*args: Any, **kwargs: Any) -> UnitOfWork:
        calls.append(kwargs)
        return original(*args, **kwargs)

    object.__setattr__(services.ctx, "uow", counting)  # the context is a frozen dataclass
    try:
        doc = services.export.export(PersonPrincipal(person_id))
    finally:
        object.__setattr__(services.ctx, "uow", original)
    assert calls == [{"write": False}]
    assert doc["reports"] == [] and doc["sanctions"] == [] and doc["reporter_standing"] is None
