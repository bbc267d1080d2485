"""The moderation path end to end, over HTTP on both databases: report, case, decision, the
door closes, appeal, reversal by another reviewer, the door opens again; and platform scope."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, bearer, join, register, world
from tests.moderation_helpers import (
    decision,
    door,
    issue_pass,
    person_report,
    policy_world,
    staff,
)

from personae.bootstrap import Services
from personae.services.transparency import TransparencyService
from personae.store import tables as t
from personae.translog.entries import commitment


def _inbox(client: TestClient, who: dict[str, str], kind: str) -> list[dict[str, Any]]:
    notices = client.get("/v1/me/notices", headers=who).json()
    return [n for n in notices if n["kind"] == kind]


def test_report_decision_door_appeal_reversal(services: Services, client: TestClient) -> None:
    aurora, key = policy_world(services, client, "Aurora")
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    sd_jwt, holder = issue_pass(client, alice, persona)
    assert door(services, client, aurora, key, sd_jwt, holder) == 200

    # Two reports on the same persona and clause fold into one open case.
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    receipt = person_report(client, bob, aurora, persona)
    assert receipt.status_code == 201, receipt.text
    assert receipt.json()["policy_version"] == 1
    by_world = client.post(
        "/v1/worlds/me/reports",
        headers=bearer(key),
        json={
            "persona_id": persona,
            "clause_id": "harassment",
            "location": "plaza",
            "explanation": "flagged by our chat filter and a member",
            "good_faith": True,
        },
    )
    assert by_world.status_code == 201, by_world.text
    mod = staff(services, client, "mod.one", aurora)
    queue = client.get("/v1/moderation/queue", headers=mod).json()
    assert [(c["persona_id"], c["report_count"]) for c in queue["cases"]] == [(persona, 2)]
    case_id = queue["cases"][0]["id"]
    detail = client.get(f"/v1/moderation/cases/{case_id}", headers=mod).json()
    assert sorted(r["reporter_kind"] for r in detail["reports"]) == ["person", "world"]
    assert "bob" not in str(detail)

    assert client.post(f"/v1/moderation/cases/{case_id}/assign", headers=mod).status_code == 200
    note = client.post(
        f"/v1/moderation/cases/{case_id}/notes",
        headers=mod,
        json={"text": "thank you, we acted on this", "visibility": "reporter"},
    )
    assert note.status_code == 201

    decided = client.post(f"/v1/moderation/cases/{case_id}/decision", headers=mod, json=decision())
    assert decided.status_code == 201, decided.text
    statement = decided.json()
    assert statement["measure"] == "suspension" and statement["source"] == "report"
    assert statement["reviewer_code"].startswith("R-")

    # The door closes: the old pass is revoked, a new one refused.
    assert door(services, client, aurora, key, sd_jwt, holder) == 401
    again = client.post(
        f"/v1/me/personas/{persona}/passes",
        headers=alice,
        json={"holder_jwk": _jwk()},
    )
    assert again.status_code == 403
    assert again.json()["type"] == "urn:personae:problem:sanction-in-force"

    # Alice's notice carries the statement of reasons, how to appeal and the log reference.
    [notice] = _inbox(client, alice, "moderation.decision")
    body = notice["body"]
    assert body["clauses"][0]["clause_id"] == "harassment"
    assert body["redress"]["appeal_deadline"] and body["redress"]["out_of_court"]
    assert body["reviewer"] == {"role": "world moderator", "code": statement["reviewer_code"]}
    assert body["log"]["outbox_event_id"] == statement["outbox_event_id"]
    # Bob learns the outcome, not who was reported.
    [outcome] = _inbox(client, bob, "moderation.report_outcome")
    assert outcome["body"]["measure"] == "suspension"
    assert outcome["body"]["notes"] == ["thank you, we acted on this"]
    assert persona not in str(outcome) and outcome["persona_id"] is None
    world_view = client.get(
        f"/v1/worlds/me/reports/{by_world.json()['report_id']}", headers=bearer(key)
    ).json()
    assert world_view["decided"] and world_view["measure"] == "suspension"

    # Appeal: the deciding reviewer may not handle it; a second reviewer reverses.
    filed = client.post(
        f"/v1/me/decisions/{statement['id']}/appeal",
        headers=alice,
        json={"statement": "the recording was of someone else"},
    )
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["id"]
    reversal = {"outcome": "reversed", "reasons": "the voice was not Alice's"}
    own = client.post(f"/v1/moderation/appeals/{appeal_id}/decision", headers=mod, json=reversal)
    assert own.status_code == 403
    second = staff(services, client, "mod.two", aurora)
    assert [a["id"] for a in client.get("/v1/moderation/appeals", headers=second).json()] == [
        appeal_id
    ]
    reversed_ = client.post(
        f"/v1/moderation/appeals/{appeal_id}/decision", headers=second, json=reversal
    )
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["outcome"] == "reversed"

    # The door opens again with the very same pass; the strike is gone.
    assert door(services, client, aurora, key, sd_jwt, holder) == 200
    [appeal_notice] = _inbox(client, alice, "moderation.appeal_outcome")
    assert appeal_notice["body"]["outcome"] == "reversed"
    assert appeal_notice["body"]["reviewer"]["code"] != statement["reviewer_code"]
    standing = client.get(f"/v1/worlds/me/personas/{persona}/standing", headers=bearer(key))
    assert standing.json() == {"persona_id": persona, "tier": "new", "measures": []}
    mine = client.get("/v1/me/decisions", headers=alice).json()
    assert mine[0]["decision"]["status"] == "reversed"
    assert mine[0]["appeal"]["outcome"] == "reversed"
    assert mine[0]["decision_log"]["log_index"] is None  # not sequenced yet

    # Once the log has the entries, Alice can find hers: the salt opens the commitment.
    log = TransparencyService(services.ctx, services.engine, "personae.test/log")
    log.sequence_pending()
    mine = client.get("/v1/me/decisions", headers=alice).json()[0]
    for ref, kind in (
        (mine["decision_log"], "decision_made"),
        (mine["appeal_log"], "appeal_decided"),
    ):
        [(_, raw)] = log.entries(ref["log_index"], ref["log_index"] + 1)
        entry = json.loads(raw)
        assert entry["type"] == f"moderation.{kind}" and persona not in raw.decode()
        assert entry["subject"] == commitment(bytes.fromhex(ref["commitment_salt"]), persona)
    # The notices in the inbox carry the same reference: log index and salt.
    for notice in _inbox(client, alice, "moderation.decision") + _inbox(
        client, alice, "moderation.appeal_outcome"
    ):
        assert notice["log_index"] is not None, notice["kind"]
        [(_, raw)] = log.entries(notice["log_index"], notice["log_index"] + 1)
        subject = json.loads(raw)["subject"]
        assert subject == commitment(bytes.fromhex(notice["commitment_salt"]), persona)
    assert (
        client.get(f"/v1/moderation/cases/{case_id}", headers=mod).json()["case"]["status"]
        == "closed"
    )


def test_platform_ban_reaches_every_persona_and_no_world_learns_the_others(
    services: Services, client: TestClient
) -> None:
    aurora, aurora_key = policy_world(services, client, "Aurora")
    guild, guild_key = policy_world(services, client, "Guild")
    alice = register(client, "alice", ALICE)
    in_aurora = join(client, alice, aurora, ["birth_date@age_over_18"])
    in_guild = join(client, alice, guild, ["birth_date@age_over_18"])
    carol = register(client, "carol", {"birth_date": "1980-01-01"})
    carols = join(client, carol, guild, ["birth_date@age_over_18"])
    passes = {
        name: issue_pass(client, who, persona)
        for name, who, persona in (
            ("aurora", alice, in_aurora),
            ("guild", alice, in_guild),
            ("carol", carol, carols),
        )
    }

    # A world-scope suspension in Aurora leaves Alice's Guild persona alone.
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    assert person_report(client, bob, aurora, in_aurora, "spam").status_code == 201
    aurora_mod = staff(services, client, "mod.aurora", aurora)
    [spam_case] = client.get("/v1/moderation/queue", headers=aurora_mod).json()["cases"]
    warned = client.post(
        f"/v1/moderation/cases/{spam_case['id']}/decision",
        headers=aurora_mod,
        json=decision(clause_id="spam"),
    )
    assert warned.status_code == 201
    assert door(services, client, aurora, aurora_key, *passes["aurora"]) == 401
    assert door(services, client, guild, guild_key, *passes["guild"]) == 200

    # A threat under the platform policy: the world moderator may not go platform-wide.
    assert (
        person_report(client, bob, aurora, in_aurora, "violence-threats", "platform").status_code
        == 201
    )
    [threat] = client.get("/v1/moderation/queue", headers=aurora_mod).json()["cases"]
    ban = decision(
        "ban", ends_at=None, clause_id="violence-threats", scope="platform", clause_scope="platform"
    )
    url = f"/v1/moderation/cases/{threat['id']}"
    assert client.post(f"{url}/decision", headers=aurora_mod, json=ban).status_code == 403
    trust = staff(services, client, "trust.safety")
    assert client.get(url, headers=trust).status_code == 404  # not escalated: not theirs
    escalated = client.post(f"{url}/escalate", headers=aurora_mod, json={"reason": "threats"})
    assert escalated.status_code == 200 and escalated.json()["status"] == "escalated"
    assert client.get("/v1/moderation/queue", headers=aurora_mod).json()["cases"] == []
    assert client.post(f"{url}/decision", headers=aurora_mod, json=ban).status_code == 403
    [queued] = client.get("/v1/moderation/queue", headers=trust).json()["cases"]
    assert queued["id"] == threat["id"]
    banned = client.post(f"{url}/decision", headers=trust, json=ban)
    assert banned.status_code == 201, banned.text
    assert banned.json()["reviewer_role"] == "platform trust & safety"

    # Every persona of Alice is banned; Carol, in the same world, is not.
    assert door(services, client, guild, guild_key, *passes["guild"]) == 401
    assert door(services, client, guild, guild_key, *passes["carol"]) == 200
    guild_sees = client.get(
        f"/v1/worlds/me/personas/{in_guild}/standing", headers=bearer(guild_key)
    ).json()
    assert guild_sees["measures"] == [{"measure": "ban", "ends_at": None}]
    # Guild learns nothing of Aurora: not the persona, not the world, not the decision.
    flat = str(guild_sees)
    assert in_aurora not in flat and aurora not in flat and banned.json()["id"] not in flat
    assert (
        client.get(
            f"/v1/worlds/me/personas/{in_aurora}/standing", headers=bearer(guild_key)
        ).status_code
        == 404
    )
    # Nothing stored links the two personas, and the log holds no persona id.
    with services.engine.connect() as conn:
        rows = conn.execute(select(t.sanctions.c.persona_id, t.sanctions.c.decision_ref)).all()
        events = conn.execute(select(t.outbox_events.c.type, t.outbox_events.c.payload)).all()
    refs = [r.decision_ref for r in rows]
    assert len(set(refs)) == len(refs)
    assert {r.persona_id for r in rows} == {in_aurora, in_guild}
    assert "moderation.platform_scope_opened" in {e.type for e in events}
    assert not any(p in str(e.payload) for e in events for p in (in_aurora, in_guild, carols))
    # Alice is told, once, in her inbox.
    notices = [
        n
        for n in client.get("/v1/me/notices", headers=alice).json()
        if n["kind"] == "moderation.decision"
    ]
    assert sorted(n["body"]["scope"] for n in notices) == ["platform", "world"]
    # A world Alice never joined cannot be the way round the ban (found in review).
    cove, _ = world(services, "Cove", AGE_GATE)
    refused = client.post(
        "/v1/me/personas",
        headers=alice,
        json={"world_id": cove, "consent": ["birth_date@age_over_18"]},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "urn:personae:problem:sanction-in-force"
    with services.engine.connect() as conn:
        assert (
            conn.execute(select(t.personas.c.id).where(t.personas.c.world_id == cove)).all() == []
        )


def _jwk() -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec

    from personae.crypto.jose import public_jwk

    return public_jwk(ec.generate_private_key(ec.SECP256R1()))
