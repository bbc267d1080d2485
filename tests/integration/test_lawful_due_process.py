"""Lawful access end to end over HTTP, on both databases: four eyes, unmasking, package, notice."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, GUILD, PASSWORD, bearer, join, register, world

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.jose import verify_compact
from personae.domain.staff import Role
from personae.services.production import SIGNING_PURPOSE
from personae.translog.entries import canonical_json

DOC = hashlib.sha256(b"order 2026-17 of the Zarnia district court").hexdigest()


def officer(services: Services, client: TestClient, name: str) -> dict[str, str]:
    services.staff.create(name, PASSWORD, Role.LEGAL_OFFICER)
    return sign_in(client, name)


def sign_in(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/v1/staff/sessions", json={"username": name, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def intake_body(clock: FixedClock, world_id: str, persona: str, **over: Any) -> dict[str, Any]:
    now = clock.now()
    body: dict[str, Any] = {
        "authority": "Zarnia Police, cybercrime unit",
        "authority_verification": "called back on the published switchboard number",
        "jurisdiction": "fr",
        "process_type": "court_order",
        "document_ref": "ZPC-2026-17",
        "document_sha256": DOC,
        "target": {"world_id": world_id, "persona_id": persona, "scope": "persona"},
        "categories": ["subscriber", "identity", "disclosures", "attributes"],
        "range_start": (now - timedelta(days=30)).isoformat(),
        "range_end": (now + timedelta(days=1)).isoformat(),
        "deadline": (now + timedelta(days=10)).isoformat(),
        "nondisclosure_until": (now + timedelta(days=60)).isoformat(),
    }
    body.update(over)
    return body


def events(services: Services, kind: str) -> list[dict[str, Any]]:
    with services.ctx.uow(write=False) as uow:
        return [e.payload for e in uow.outbox.all() if e.type == kind]


def test_full_due_process_path(services: Services, client: TestClient, clock: FixedClock) -> None:
    aurora, aurora_key = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", GUILD)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    other = join(client, alice, guild, ["occupation@major_group"])
    assert client.get(f"/v1/worlds/me/personas/{persona}", headers=bearer(aurora_key)).is_success
    ana, ben, cyd = (officer(services, client, n) for n in ("ana", "ben", "cyd"))

    created = client.post(
        "/v1/lawful/requests", headers=ana, json=intake_body(clock, aurora, persona)
    )
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert created.json()["jurisdiction"] == "FR" and created.json()["status"] == "received"

    # Four eyes: the intake officer cannot approve; nobody executes before approval.
    approve = {"decision": "approve", "categories": ["subscriber", "identity", "disclosures"]}
    assert (
        client.post(f"/v1/lawful/requests/{rid}/decision", headers=ana, json=approve).status_code
        == 403
    )
    assert client.post(f"/v1/lawful/requests/{rid}/execute", headers=ben).status_code == 409
    # A court order cannot compel attribute values: asking for them must be narrowed.
    too_much = {"decision": "approve", "reason": "all of it"}
    assert (
        client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json=too_much).status_code
        == 422
    )
    no_reason = client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json=approve)
    assert no_reason.status_code == 422
    approve["reason"] = "attribute values need a search warrant"
    decided = client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json=approve)
    assert decided.status_code == 200, decided.text
    assert decided.json()["approved_categories"] == ["disclosures", "identity", "subscriber"]

    executed = client.post(f"/v1/lawful/requests/{rid}/execute", headers=ben)
    assert executed.status_code == 200, executed.text
    assert events(services, "lawful.unmasked") == [
        {
            "request_id": rid,
            "jurisdiction": "FR",
            "process_type": "court_order",
            "purpose": "production",
        }
    ]

    # The package: signed, only the approved categories, counts and hash in the manifest;
    # only the approving officer downloads it (not the intake officer, not a bystander).
    assert client.get(f"/v1/lawful/requests/{rid}/package", headers=cyd).status_code == 404
    assert client.get(f"/v1/lawful/requests/{rid}/package", headers=ana).status_code == 404
    jws = client.get(f"/v1/lawful/requests/{rid}/package", headers=ben)
    assert jws.status_code == 200 and jws.headers["content-type"].startswith("application/jose")
    key = services.keystore.verification_keys(SIGNING_PURPOSE)[0]
    _, package = verify_compact(jws.text, key.public_key)
    manifest, data = package["manifest"], package["data"]
    assert sorted(data) == ["disclosures", "identity", "subscriber"]
    assert manifest["request_id"] == rid and manifest["categories"] == sorted(data)
    assert manifest["record_counts"] == {"disclosures": 1, "identity": 1, "subscriber": 1}
    assert manifest["data_sha256"] == hashlib.sha256(canonical_json(data)).hexdigest()
    linked = {p["persona_id"] for p in data["identity"][0]["personas"]}
    assert linked == {persona, other}
    assert "Alice" not in jws.text and "1991" not in str(data)  # no attribute values

    handed = client.post(
        f"/v1/lawful/requests/{rid}/handover",
        headers=ben,
        json={"handover": "sealed e-mail to ZPC"},
    )
    assert handed.status_code == 200 and handed.json()["outcome"] == "produced_in_part"
    closed = events(services, "lawful.request_closed")
    assert closed == [
        {
            "request_id": rid,
            "jurisdiction": "FR",
            "process_type": "court_order",
            "outcome": "produced_in_part",
            "accounts": 1,
        }
    ]

    # The person's notice waits for the nondisclosure order to end, then arrives.
    kinds = [n["kind"] for n in client.get("/v1/me/notices", headers=alice).json()]
    assert "lawful_access" not in kinds
    clock.advance(timedelta(days=61))
    session = client.post("/v1/sessions", json={"handle": "alice", "password": PASSWORD}).json()
    inbox = client.get("/v1/me/notices", headers=bearer(session["token"])).json()
    notice = next(n for n in inbox if n["kind"] == "lawful_access")
    assert notice["persona_id"] == persona
    assert notice["body"]["authority"] == "Zarnia Police, cybercrime unit"
    assert notice["body"]["categories_produced"] == ["disclosures", "identity", "subscriber"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"document_sha256": None}, "document_sha256"),
        ({"process_type": None}, "process_type"),
        ({"document_sha256": "abc"}, "document_sha256"),
        ({"jurisdiction": "France"}, "jurisdiction"),
        ({"categories": []}, "categories"),
    ],
)
def test_intake_refuses_missing_fields(
    services: Services, client: TestClient, clock: FixedClock, change: dict[str, Any], field: str
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    persona = join(client, register(client, "alice", ALICE), aurora, ["birth_date@age_over_18"])
    body = intake_body(clock, aurora, persona)
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    response = client.post(
        "/v1/lawful/requests", headers=officer(services, client, "ana"), json=body
    )
    assert response.status_code == 422
    assert any(field in e["loc"] for e in response.json()["errors"])


def test_nondisclosure_in_the_past_and_cap(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    persona = join(client, register(client, "alice", ALICE), aurora, ["birth_date@age_over_18"])
    ana = officer(services, client, "ana")
    past = (clock.now() - timedelta(days=1)).isoformat()
    body = intake_body(clock, aurora, persona, nondisclosure_until=past)
    assert client.post("/v1/lawful/requests", headers=ana, json=body).status_code == 422
    long = (clock.now() + timedelta(days=1000)).isoformat()
    created = client.post(
        "/v1/lawful/requests",
        headers=ana,
        json=intake_body(clock, aurora, persona, nondisclosure_until=long),
    ).json()
    capped = created["nondisclosure_until"].replace("Z", "+00:00")
    assert capped.startswith((clock.now() + timedelta(days=365)).date().isoformat())
    renewed_by = hashlib.sha256(b"order 2026-17-R of the Zarnia district court").hexdigest()
    renew = {"document_ref": "ZPC-2026-17-R", "document_sha256": renewed_by}
    rid = created["id"]
    beyond = {**renew, "until": (clock.now() + timedelta(days=400)).isoformat()}
    assert (
        client.post(
            f"/v1/lawful/requests/{rid}/nondisclosure", headers=ana, json=beyond
        ).status_code
        == 422
    )
    ok = {**renew, "until": (clock.now() + timedelta(days=300)).isoformat()}
    assert (
        client.post(f"/v1/lawful/requests/{rid}/nondisclosure", headers=ana, json=ok).status_code
        == 200
    )
    assert events(services, "lawful.nondisclosure_renewed") == [{"request_id": rid, "days": 300}]


def test_emergency_one_officer_then_review_or_flag(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    persona = join(client, register(client, "alice", ALICE), aurora, ["birth_date@age_over_18"])
    ana, ben = officer(services, client, "ana"), officer(services, client, "ben")
    emergency = intake_body(
        clock,
        aurora,
        persona,
        process_type="emergency",
        categories=["subscriber"],
        nondisclosure_until=None,
    )
    assert client.post("/v1/lawful/requests", headers=ana, json=emergency).status_code == 422
    emergency["justification"] = "credible threat to life posted in a public room"
    ids = [
        client.post("/v1/lawful/requests", headers=ana, json=emergency).json()["id"]
        for _ in range(2)
    ]
    for rid in ids:
        executed = client.post(f"/v1/lawful/requests/{rid}/execute", headers=ana)
        assert executed.status_code == 200, executed.text
        assert executed.json()["review_due_at"] is not None
    review = {"outcome": "upheld", "reason": "the threat was specific"}
    assert (
        client.post(f"/v1/lawful/requests/{ids[0]}/review", headers=ana, json=review).status_code
        == 403
    )
    assert (
        client.post(f"/v1/lawful/requests/{ids[0]}/review", headers=ben, json=review).status_code
        == 200
    )
    clock.advance(timedelta(hours=49))
    services.retention.sweep()
    ana, ben = sign_in(client, "ana"), sign_in(client, "ben")
    flagged = {
        r["id"]: r["review_missed"] for r in client.get("/v1/lawful/requests", headers=ben).json()
    }
    assert flagged == {ids[0]: False, ids[1]: True}
    assert events(services, "lawful.review_missed") == [{"request_id": ids[1]}]
    # Emergency notice: 90 days after closure when no order says otherwise.
    handed = client.post(
        f"/v1/lawful/requests/{ids[0]}/handover", headers=ana, json={"handover": "phone + e-mail"}
    )
    assert handed.status_code == 200, handed.text
    with services.ctx.uow(write=False) as uow:
        notices = uow.notices.delivered_to(
            [f"persona:{persona}"], clock.now() + timedelta(days=89), 10
        )
        later = uow.notices.delivered_to(
            [f"persona:{persona}"], clock.now() + timedelta(days=90), 10
        )
    assert notices == [] and len(later) == 1


def test_rejection_needs_a_reason_and_subpoena_cannot_unmask(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    persona = join(client, register(client, "alice", ALICE), aurora, ["birth_date@age_over_18"])
    ana, ben = officer(services, client, "ana"), officer(services, client, "ben")
    person_scope = intake_body(
        clock,
        aurora,
        persona,
        process_type="subpoena",
        categories=["subscriber"],
        target={"world_id": aurora, "persona_id": persona, "scope": "person"},
    )
    assert client.post("/v1/lawful/requests", headers=ana, json=person_scope).status_code == 422
    body = intake_body(
        clock, aurora, persona, process_type="subpoena", categories=["subscriber", "identity"]
    )
    rid = client.post("/v1/lawful/requests", headers=ana, json=body).json()["id"]
    bad = {"decision": "approve", "categories": ["subscriber", "identity"], "reason": "x"}
    assert (
        client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json=bad).status_code == 422
    )
    reject = {"decision": "reject"}
    assert (
        client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json=reject).status_code
        == 422
    )
    reject["reason"] = "identity needs a court order"
    rejected = client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json=reject)
    assert rejected.json()["status"] == "closed" and rejected.json()["outcome"] == "rejected"
    assert client.post(f"/v1/lawful/requests/{rid}/execute", headers=ben).status_code == 409
    assert events(services, "lawful.unmasked") == []
    # Not a legal officer: forbidden outright.
    services.staff.create("mod", PASSWORD, Role.MODERATOR, None)
    token = client.post("/v1/staff/sessions", json={"username": "mod", "password": PASSWORD}).json()
    assert client.get("/v1/lawful/requests", headers=bearer(token["token"])).status_code == 403


def test_preservation_of_the_person_holds_every_persona(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    guild, _ = world(services, "Guild", GUILD)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    other = join(client, alice, guild, ["occupation@major_group"])
    ana, ben = officer(services, client, "ana"), officer(services, client, "ben")
    body = intake_body(
        clock,
        aurora,
        persona,
        process_type="eu_preservation_order",
        categories=[],
        target={"world_id": aurora, "persona_id": persona, "scope": "person"},
    )
    rid = client.post("/v1/lawful/requests", headers=ana, json=body).json()["id"]
    client.post(f"/v1/lawful/requests/{rid}/decision", headers=ben, json={"decision": "approve"})
    done = client.post(f"/v1/lawful/requests/{rid}/execute", headers=ben).json()
    assert done["status"] == "closed" and done["outcome"] == "preserved"
    assert [e["purpose"] for e in events(services, "lawful.unmasked")] == ["preservation"]
    holds = client.get("/v1/lawful/holds", headers=ben).json()
    assert (
        len(holds) == 1 and holds[0]["basis"] == "eu_preservation" and holds[0]["request_id"] == rid
    )
    with services.ctx.uow(write=False) as uow:
        held = uow.holds.active_subjects(clock.now())
    lookup = services.ctx.pseudonyms.lookup
    assert lookup("held", f"persona:{other}") in held and len(held) == 3  # person + 2 personas
    assert client.get(f"/v1/lawful/requests/{rid}/package", headers=ben).status_code == 404
