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

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto import keystore
from personae.crypto.jose import b64url_decode, public_jwk
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
    assert until == old_expiry + RETIRED_KEY_GRACE
    # The new key signs from now on and is published beside the old one.
    new_pass = issue()
    assert _kid_of(new_pass["sd_jwt"]) == new_key.kid != old_kid
    assert _kids(client) == [new_key.kid, old_kid]
    assert _admits(client, key, aurora, old_pass["sd_jwt"], holder) == 200
    assert _admits(client, key, aurora, new_pass["sd_jwt"], holder) == 200

    # Within the grace after the old key's last pass expired, it is still published...
    clock.set(old_expiry + RETIRED_KEY_GRACE - timedelta(seconds=1))
    assert _kids(client) == [new_key.kid, old_kid]
    # ...and after it, no longer; the active key always is.
    clock.set(old_expiry + RETIRED_KEY_GRACE + timedelta(seconds=1))
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
