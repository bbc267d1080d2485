"""Passes and sanctions together: who revoked a pass, sanctions yet to begin, and races."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, join, register, world

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto import statuslist
from personae.crypto.jose import public_jwk
from personae.domain.moderation import Measure
from personae.errors import SanctionInForce
from personae.services.auth import PersonPrincipal
from personae.store.records import PersonaRecord

DAY = timedelta(days=1)


def _holder() -> dict[str, Any]:
    return public_jwk(ec.generate_private_key(ec.SECP256R1()))


def _alice_in_aurora(services: Services, client: TestClient) -> tuple[dict[str, str], str]:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    return alice, join(client, alice, aurora, ["birth_date@age_over_18"])


def _alice_with_a_pass(services: Services, client: TestClient) -> tuple[dict[str, str], str, str]:
    """Alice, her Aurora persona and a pass issued for it."""
    alice, persona = _alice_in_aurora(services, client)
    return alice, persona, _issue(client, alice, persona).json()["pass_id"]


def _issue(client: TestClient, alice: dict[str, str], persona: str) -> Any:
    return client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": _holder()}
    )


def _persona(services: Services, persona_id: str) -> PersonaRecord:
    with services.ctx.uow(write=False) as uow:
        record = uow.personas.get(persona_id)
    assert record is not None
    return record


def _sanction(
    services: Services, decision: str, persona: str, starts: datetime, ends: datetime | None
) -> int:
    """Apply a suspension (or a ban, without end); how many passes it revoked."""
    measure = Measure.SUSPENSION if ends is not None else Measure.BAN
    with services.ctx.uow() as uow:
        return services.decisions.enforcement.apply(
            uow,
            decision,
            measure,
            [_persona(services, persona)],
            starts_at=starts,
            ends_at=ends,
            now=services.ctx.clock.now(),
        )


def _lift(services: Services, decision: str, persona: str) -> int:
    with services.ctx.uow() as uow:
        return services.decisions.enforcement.lift(
            uow, decision, [_persona(services, persona)], services.ctx.clock.now()
        )


def _revoked(services: Services, pass_id: str) -> tuple[str | None, int | None]:
    """(who revoked the pass, its status bit as the next status list will serve it)."""
    with services.ctx.uow(write=False) as uow:
        record = uow.passes.get(pass_id)
        assert record is not None
        listed = uow.status_lists.get(record.status_list_id)
        assert listed is not None
    return record.revoked_by, statuslist.status_at(listed.bits, record.status_index, 1)


def test_a_pass_its_holder_revoked_stays_revoked_when_the_sanction_is_lifted(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    # The holder's revocation used to be lost under moderation's: lifting the sanction
    # brought the pass back (found in review).
    alice, persona, pass_id = _alice_with_a_pass(services, client)
    now = clock.now()
    assert _sanction(services, "dec_a", persona, now, now + DAY) == 1
    revoke = client.delete(f"/v1/me/personas/{persona}/passes/{pass_id}", headers=alice)
    assert revoke.status_code == 204
    assert _revoked(services, pass_id) == ("person", 1)
    assert _lift(services, "dec_a", persona) == 0
    assert _revoked(services, pass_id) == ("person", 1)


def test_a_pass_erasure_revoked_stays_revoked_when_the_sanction_is_lifted(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    # A persona kept under a hold after its person's erasure keeps its (revoked) pass.
    _alice, persona, pass_id = _alice_with_a_pass(services, client)
    now = clock.now()
    assert _sanction(services, "dec_a", persona, now, now + DAY) == 1
    with services.ctx.uow() as uow:
        record = uow.passes.get(pass_id)
        assert record is not None
        services.passes.set_revoked_for_good(uow, record, now, "erasure")
    assert _lift(services, "dec_a", persona) == 0
    assert _revoked(services, pass_id) == ("erasure", 1)


def test_a_pass_moderation_revoked_comes_back_when_the_sanction_is_lifted(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    _alice, persona, pass_id = _alice_with_a_pass(services, client)
    now = clock.now()
    assert _sanction(services, "dec_a", persona, now, now + DAY) == 1
    assert _revoked(services, pass_id)[1] == 1
    assert _lift(services, "dec_a", persona) == 1
    assert _revoked(services, pass_id) == (None, 0)


def test_no_pass_is_issued_while_a_sanction_is_yet_to_begin(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    # Its passes were revoked when it was applied; one issued meanwhile would have
    # stayed valid through it (found in review).
    alice, persona = _alice_in_aurora(services, client)
    now = clock.now()
    hour = timedelta(hours=1)
    _sanction(services, "dec_a", persona, now + hour, now + 2 * hour)
    refused = _issue(client, alice, persona)
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:personae:problem:sanction-in-force"
    clock.advance(3 * hour)  # over: passes again
    assert _issue(client, alice, persona).status_code == 201


def test_lifting_one_sanction_keeps_passes_revoked_while_another_is_yet_to_begin(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    _alice, persona, pass_id = _alice_with_a_pass(services, client)
    now = clock.now()
    assert _sanction(services, "dec_a", persona, now, now + DAY) == 1
    assert _sanction(services, "dec_b", persona, now + 2 * DAY, now + 3 * DAY) == 0
    assert _lift(services, "dec_a", persona) == 0
    assert _revoked(services, pass_id) == ("moderation", 1)


def test_issuing_waits_for_a_sanction_being_applied(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    # On PostgreSQL (READ COMMITTED) issuing read the sanctions without waiting for a
    # sanction being applied, which did not see the new pass: both committed, and the
    # pass stayed valid (found in review). Both now lock the persona first.
    alice, persona = _alice_in_aurora(services, client)
    who = services.auth.person(alice["authorization"].removeprefix("Bearer "))
    assert isinstance(who, PersonPrincipal)
    now = clock.now()
    record = _persona(services, persona)
    applied, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def apply_and_hold() -> None:
        try:
            with services.ctx.uow() as uow:
                services.decisions.enforcement.apply(
                    uow,
                    "dec_race",
                    Measure.BAN,
                    [record],
                    starts_at=now,
                    ends_at=None,
                    now=now,
                )
                applied.set()
                release.wait(0.5)  # the issuing below starts while this is uncommitted
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
            applied.set()

    sanctioner = threading.Thread(target=apply_and_hold)
    sanctioner.start()
    assert applied.wait(10)
    try:
        with pytest.raises(SanctionInForce):
            services.passes.issue(who, persona, _holder())
    finally:
        release.set()
        sanctioner.join()
    assert not failures


def test_lifting_the_sanction_that_held_passes_after_another_was_lifted_restores_them(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    # Lifting A while B was in force kept A's passes revoked, but linked them to nothing:
    # reversing B later restored nothing (found in review).
    _alice, persona, pass_id = _alice_with_a_pass(services, client)
    now = clock.now()
    assert _sanction(services, "dec_a", persona, now, now + DAY) == 1
    assert _sanction(services, "dec_b", persona, now, now + 2 * DAY) == 0
    assert _lift(services, "dec_a", persona) == 0
    assert _revoked(services, pass_id) == ("moderation", 1)
    assert _lift(services, "dec_b", persona) == 1
    assert _revoked(services, pass_id) == (None, 0)


def _join(client: TestClient, alice: dict[str, str], world_id: str) -> Any:
    return client.post(
        "/v1/me/personas",
        headers=alice,
        json={"world_id": world_id, "consent": ["birth_date@age_over_18"]},
    )


@pytest.mark.parametrize("platform", [True, False])
def test_no_new_persona_while_a_platform_wide_sanction_runs(
    services: Services, client: TestClient, clock: FixedClock, platform: bool
) -> None:
    # A platform-scope decision reaches the personas the person had when it was decided;
    # joining another world afterwards escaped it (found in review).
    alice, persona = _alice_in_aurora(services, client)
    cove, _ = world(services, "Cove", AGE_GATE)
    now = clock.now()
    with services.ctx.uow() as uow:
        services.decisions.enforcement.apply(
            uow,
            "dec_p",
            Measure.SUSPENSION,
            [_persona(services, persona)],
            starts_at=now + DAY,  # yet to begin counts too
            ends_at=now + 2 * DAY,
            now=now,
            platform=platform,
        )
    joined = _join(client, alice, cove)
    if not platform:  # a world-scope sanction stays in its world
        assert joined.status_code == 201, joined.text
        return
    assert joined.status_code == 403
    assert joined.json()["type"] == "urn:personae:problem:sanction-in-force"
    assert _join(client, alice, _persona(services, persona).world_id).status_code == 200
    _lift(services, "dec_p", persona)
    assert _join(client, alice, cove).status_code == 201
