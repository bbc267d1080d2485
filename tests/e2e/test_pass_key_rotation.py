"""Rotating the pass signing key: old passes keep opening doors until they expire, then
the old key is no longer published."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, bearer, join, register, world

from personae.bootstrap import Services, build
from personae.clock import FixedClock
from personae.crypto import keystore
from personae.crypto.jose import b64url_decode, public_jwk
from personae.services import passes as passes_module
from personae.services.passes import RETIRED_KEY_GRACE
from personae.store import tables as t
from personae.verify import present


def _kids(client: TestClient) -> list[str]:
    return [k["kid"] for k in client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]]


def _kid_of(sd_jwt: str) -> str:
    header: dict[str, Any] = orjson.loads(b64url_decode(sd_jwt.split(".", maxsplit=1)[0]))
    return str(header["kid"])


def _admits(client: TestClient, key: str, world_id: str, sd_jwt: str, holder: Any) -> int:
    nonce = client.post("/v1/worlds/me/nonces", headers=bearer(key)).json()["nonce"]
    services: Services = client.app.state.services  # type: ignore[attr-defined]
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


def test_old_passes_open_doors_until_they_expire_then_the_old_key_is_withdrawn(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    holder = ec.generate_private_key(ec.SECP256R1())

    def issue() -> dict[str, Any]:
        response = client.post(
            f"/v1/me/personas/{persona}/passes",
            headers=alice,
            json={"holder_jwk": public_jwk(holder)},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    old_pass = issue()
    old_kid = _kid_of(old_pass["sd_jwt"])
    assert _kids(client) == [old_kid]
    assert _admits(client, key, aurora, old_pass["sd_jwt"], holder) == 200

    new_key, until = services.passes.rotate_signing_key()
    old_expiry = datetime.fromisoformat(old_pass["expires_at"])
    # Recorded rounded up to the hour: published at least until the last pass expires.
    assert (
        old_expiry + RETIRED_KEY_GRACE
        < until
        <= old_expiry + timedelta(hours=1) + (RETIRED_KEY_GRACE)
    )
    # The new key signs from now on and is published beside the old one.
    new_pass = issue()
    assert _kid_of(new_pass["sd_jwt"]) == new_key.kid != old_kid
    assert _kids(client) == [new_key.kid, old_kid]
    assert _admits(client, key, aurora, old_pass["sd_jwt"], holder) == 200
    assert _admits(client, key, aurora, new_pass["sd_jwt"], holder) == 200

    # Up to the time the rotation announced, the old key is still published...
    clock.set(until - timedelta(seconds=1))
    assert _kids(client) == [new_key.kid, old_kid]
    # ...and after it, no longer; the active key always is.
    clock.set(until + timedelta(seconds=1))
    assert _kids(client) == [new_key.kid]
    assert [k.kid for k in services.passes.published_keys()] == [new_key.kid]


def test_a_key_with_no_record_is_kept_until_every_pass_so_far_expires(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    holder = public_jwk(ec.generate_private_key(ec.SECP256R1()))
    issued = client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": holder}
    ).json()
    old_kid = _kid_of(issued["sd_jwt"])
    services.passes.rotate_signing_key()
    # As after an upgrade from before keys' expiries were recorded.
    with services.engine.begin() as conn:
        conn.execute(delete(t.pass_signing_keys))
    assert old_kid in _kids(client)
    expiry = datetime.fromisoformat(issued["expires_at"])
    clock.set(expiry + RETIRED_KEY_GRACE + timedelta(seconds=1))
    assert old_kid not in _kids(client)


def test_a_key_rotated_by_another_process_signs_and_opens_doors(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keystore, "SIGNING_KEY_RECHECK_SECONDS", 0.0)
    aurora, key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    holder = ec.generate_private_key(ec.SECP256R1())
    url = f"/v1/me/personas/{persona}/passes"
    before = client.post(url, headers=alice, json={"holder_jwk": public_jwk(holder)}).json()
    assert _admits(client, key, aurora, before["sd_jwt"], holder) == 200

    # `personae keys rotate-pass` in another process: its own keystore on the same files.
    other = keystore.FileKeyStore(services.settings.keys_dir)
    try:
        rotated = other.rotate_signing_key("pass", services.settings.pass_alg)
    finally:
        other.close()
    after = client.post(url, headers=alice, json={"holder_jwk": public_jwk(holder)}).json()
    assert _kid_of(after["sd_jwt"]) == rotated.kid
    assert _admits(client, key, aurora, after["sd_jwt"], holder) == 200
    assert _admits(client, key, aurora, before["sd_jwt"], holder) == 200


def test_the_first_record_of_a_key_covers_the_passes_it_signed_before(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    holder = ec.generate_private_key(ec.SECP256R1())
    url = f"/v1/me/personas/{persona}/passes"
    month = client.post(url, headers=alice, json={"holder_jwk": public_jwk(holder)}).json()
    # As after an upgrade: no record of the key, and a process that never wrote one.
    with services.engine.begin() as conn:
        conn.execute(delete(t.pass_signing_keys))
    services.passes._recorded.clear()
    # The first pass after it lives an hour: the key's record still covers the month.
    with services.ctx.uow() as uow:
        uow.pass_settings.set_ttl(aurora, 3600)
    hour = client.post(url, headers=alice, json={"holder_jwk": public_jwk(holder)}).json()
    assert _kid_of(hour["sd_jwt"]) == _kid_of(month["sd_jwt"])
    _new, until = services.passes.rotate_signing_key()
    assert until >= datetime.fromisoformat(month["expires_at"]) + RETIRED_KEY_GRACE
    clock.set(datetime.fromisoformat(hour["expires_at"]) + timedelta(hours=2))
    assert _kid_of(month["sd_jwt"]) in _kids(client)
    assert _admits(client, key, aurora, month["sd_jwt"], holder) == 200


def test_status_lists_are_signed_with_the_active_key_which_stays_published_meanwhile(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    holder = public_jwk(ec.generate_private_key(ec.SECP256R1()))
    client.post(f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": holder})
    with services.ctx.uow(write=False) as uow:
        (record,) = uow.passes.for_persona(persona)
    path = f"/v1/status-lists/{record.status_list_id}"
    before = client.get(path).text
    new, _until = services.passes.rotate_signing_key()
    after = client.get(path).text
    assert _kid_of(before) != _kid_of(after) == new.kid  # not the token cached before
    token_expiry = orjson.loads(b64url_decode(after.split(".")[1]))["exp"]
    with services.ctx.uow(write=False) as uow:
        recorded = uow.pass_signing_keys.last_expiry(new.kid)
    assert recorded is not None and recorded.timestamp() >= token_expiry


def test_a_door_meeting_a_key_it_does_not_know_yet_looks_again(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    holder = ec.generate_private_key(ec.SECP256R1())
    url = f"/v1/me/personas/{persona}/passes"
    before = client.post(url, headers=alice, json={"holder_jwk": public_jwk(holder)}).json()
    assert _admits(client, key, aurora, before["sd_jwt"], holder) == 200  # keys now cached

    # Another process on the same database and keys rotates and issues at once.
    other = build(services.settings, clock=clock)
    try:
        rotated, _until = other.passes.rotate_signing_key()
        person = other.auth.person(alice["authorization"].removeprefix("Bearer "))
        issued = other.passes.issue(person, persona, public_jwk(holder))
    finally:
        other.close()
    assert _kid_of(issued.sd_jwt) == rotated.kid
    assert _admits(client, key, aurora, issued.sd_jwt, holder) == 200


def test_looking_the_keys_up_again_is_rare_and_keeps_an_unchanged_set(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes = services.passes
    keys = passes.trusted_keys()
    assert passes.refreshed_keys() is None  # nothing changed: the same set, doors kept
    assert passes.trusted_keys() is keys
    passes.rotate_signing_key()
    passes._issuer_keys = (frozenset(), keys, float("inf"))  # as if it had not noticed
    assert passes.may_refresh_keys() is False
    assert passes.refreshed_keys() is None  # too soon after the last look
    monkeypatch.setattr(passes_module, "KEY_REFRESH_MIN_SECONDS", 0.0)
    passes._next_refresh = 0.0
    fresh = passes.refreshed_keys()
    assert fresh is not None and fresh is not keys
