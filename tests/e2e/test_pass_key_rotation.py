"""Rotating the pass signing key: old passes keep opening doors until they expire, then
the old key is no longer published."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, bearer, issued_status_path, join, register, world

from personae.bootstrap import Services, build
from personae.clock import FixedClock
from personae.crypto import keystore
from personae.crypto.jose import b64url_decode, public_jwk
from personae.services import passes as passes_module
from personae.services.passes import RETIRED_KEY_GRACE
from personae.store import tables as t
from personae.verify import StaticIssuerKeys, present


class Visitor:
    """Alice in Aurora with a holder key: passes issued over HTTP, shown at the online door."""

    def __init__(self, services: Services, client: TestClient) -> None:
        self.services, self.client = services, client
        self.world, self.key = world(services, "Aurora", AGE_GATE)
        self.headers = register(client, "alice", ALICE)
        self.persona = join(client, self.headers, self.world, ["birth_date@age_over_18"])
        self.holder = ec.generate_private_key(ec.SECP256R1())

    def issue(self) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/me/personas/{self.persona}/passes",
            headers=self.headers,
            json={"holder_jwk": public_jwk(self.holder)},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def admitted(self, sd_jwt: str) -> bool:
        """Whether the world's online door admits a presentation of ``sd_jwt``."""
        nonce = self.client.post("/v1/worlds/me/nonces", headers=bearer(self.key)).json()
        presentation = present(
            sd_jwt,
            self.holder,
            audience=self.world,
            nonce=nonce["nonce"],
            disclose=[],
            issued_at=self.services.ctx.clock.now(),
        )
        response = self.client.post(
            "/v1/worlds/me/door-check",
            headers=bearer(self.key),
            json={"presentation": presentation, "nonce": nonce["nonce"]},
        )
        return response.status_code == 200


@pytest.fixture
def alice(services: Services, client: TestClient) -> Visitor:
    return Visitor(services, client)


def _kids(client: TestClient) -> list[str]:
    return [k["kid"] for k in client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]]


def _kid_of(sd_jwt: str) -> str:
    header: dict[str, Any] = orjson.loads(b64url_decode(sd_jwt.split(".", maxsplit=1)[0]))
    return str(header["kid"])


def test_old_passes_open_doors_until_they_expire_then_the_old_key_is_withdrawn(
    services: Services, client: TestClient, clock: FixedClock, alice: Visitor
) -> None:
    old_pass = alice.issue()
    old_kid = _kid_of(old_pass["sd_jwt"])
    assert _kids(client) == [old_kid]
    assert alice.admitted(old_pass["sd_jwt"])

    rotation = services.passes.rotate_signing_key()
    new_key, until = rotation.new, rotation.old_published_until
    assert rotation.old_kid == old_kid and rotation.signs_from == clock.now()
    old_expiry = datetime.fromisoformat(old_pass["expires_at"])
    # Recorded rounded up to the hour: published at least until the last pass expires.
    assert (
        old_expiry + RETIRED_KEY_GRACE
        < until
        <= old_expiry + timedelta(hours=1) + (RETIRED_KEY_GRACE)
    )
    # The new key signs from now on and is published beside the old one.
    new_pass = alice.issue()
    assert _kid_of(new_pass["sd_jwt"]) == new_key.kid != old_kid
    assert _kids(client) == [new_key.kid, old_kid]
    assert alice.admitted(old_pass["sd_jwt"]) and alice.admitted(new_pass["sd_jwt"])

    # Up to the time the rotation announced, the old key is still published...
    clock.set(until - timedelta(seconds=1))
    assert _kids(client) == [new_key.kid, old_kid]
    # ...and after it, no longer; the active key always is.
    clock.set(until + timedelta(seconds=1))
    assert _kids(client) == [new_key.kid]
    assert [k.kid for k in services.passes.published_keys()] == [new_key.kid]


def test_a_key_with_no_record_is_kept_until_every_pass_so_far_expires(
    services: Services, client: TestClient, clock: FixedClock, alice: Visitor
) -> None:
    issued = alice.issue()
    old_kid = _kid_of(issued["sd_jwt"])
    services.passes.rotate_signing_key()
    # As after an upgrade from before keys' expiries were recorded.
    with services.engine.begin() as conn:
        conn.execute(delete(t.pass_signing_keys))
    assert old_kid in _kids(client)
    # Recorded like any first record: the hour after the last pass so far expires.
    expiry = datetime.fromisoformat(issued["expires_at"])
    last = expiry.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    clock.set(last + RETIRED_KEY_GRACE - timedelta(seconds=1))
    assert old_kid in _kids(client)
    clock.set(last + RETIRED_KEY_GRACE + timedelta(seconds=1))
    assert old_kid not in _kids(client)


@pytest.fixture
def keys_rechecked_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every signing-key use looks the active key up again (set before the app starts,
    which looks the keys up first)."""
    monkeypatch.setattr(keystore, "SIGNING_KEY_RECHECK_SECONDS", 0.0)


def test_a_key_rotated_by_another_process_signs_and_opens_doors(
    keys_rechecked_at_once: None, services: Services, alice: Visitor
) -> None:
    before = alice.issue()
    assert alice.admitted(before["sd_jwt"])

    # `personae keys rotate-pass` in another process: its own keystore on the same files.
    other = keystore.FileKeyStore(services.settings.keys_dir)
    try:
        rotated = other.rotate_signing_key("pass", services.settings.pass_alg)
    finally:
        other.close()
    after = alice.issue()
    assert _kid_of(after["sd_jwt"]) == rotated.kid
    assert alice.admitted(after["sd_jwt"]) and alice.admitted(before["sd_jwt"])


def test_the_first_record_of_a_key_covers_the_passes_it_signed_before(
    services: Services, client: TestClient, clock: FixedClock, alice: Visitor
) -> None:
    month = alice.issue()
    # As after an upgrade: no record of the key, and a process that never wrote one.
    with services.engine.begin() as conn:
        conn.execute(delete(t.pass_signing_keys))
    services.passes._recorded.clear()
    # The first pass after it lives an hour: the key's record still covers the month.
    with services.ctx.uow() as uow:
        uow.pass_settings.set_ttl(alice.world, 3600)
    hour = alice.issue()
    assert _kid_of(hour["sd_jwt"]) == _kid_of(month["sd_jwt"])
    until = services.passes.rotate_signing_key().old_published_until
    assert until >= datetime.fromisoformat(month["expires_at"]) + RETIRED_KEY_GRACE
    clock.set(datetime.fromisoformat(hour["expires_at"]) + timedelta(hours=2))
    assert _kid_of(month["sd_jwt"]) in _kids(client)
    assert alice.admitted(month["sd_jwt"])


def test_status_lists_are_signed_with_the_active_key_which_stays_published_meanwhile(
    services: Services, client: TestClient, alice: Visitor
) -> None:
    alice.issue()
    with services.ctx.uow(write=False) as uow:
        (record,) = uow.passes.for_persona(alice.persona)
    path = f"/v1/status-lists/{record.status_list_id}"
    before = client.get(path).text
    new = services.passes.rotate_signing_key().new
    after = client.get(path).text
    assert _kid_of(before) != _kid_of(after) == new.kid  # not the token cached before
    token_expiry = orjson.loads(b64url_decode(after.split(".")[1]))["exp"]
    with services.ctx.uow(write=False) as uow:
        recorded = uow.pass_signing_keys.last_expiry(new.kid)
    assert recorded is not None and recorded.timestamp() >= token_expiry


def test_a_door_meeting_a_key_it_does_not_know_yet_looks_again(
    services: Services, clock: FixedClock, alice: Visitor
) -> None:
    assert alice.admitted(alice.issue()["sd_jwt"])  # the process has the keys cached now

    # Another process on the same database and keys rotates and issues at once.
    other = build(services.settings, clock=clock)
    try:
        rotated = other.passes.rotate_signing_key().new
        person = other.auth.person(alice.headers["authorization"].removeprefix("Bearer "))
        issued = other.passes.issue(person, alice.persona, public_jwk(alice.holder))
    finally:
        other.close()
    assert _kid_of(issued.sd_jwt) == rotated.kid
    assert alice.admitted(issued.sd_jwt)


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


def test_keys_due_for_a_look_are_looked_up_by_one_caller_while_the_rest_keep_them(
    services: Services,
) -> None:
    passes = services.passes
    assert passes.trusted_keys_now() is None  # never looked up: the caller must look
    keys = passes.trusted_keys()
    assert passes.trusted_keys_now() is keys
    kids, _, _ = passes._issuer_keys or (frozenset(), None, 0.0)
    passes._issuer_keys = (kids, keys, time.monotonic() - 1)  # due to be looked up again
    assert passes.trusted_keys_now() is None  # this caller looks
    assert passes.trusted_keys_now() is keys  # the rest keep the set meanwhile
    assert passes.trusted_keys_now() is keys
    assert passes.trusted_keys() is keys  # the look: unchanged, the same set, fresh again
    assert passes.trusted_keys_now() is keys


def test_a_key_set_is_not_used_long_past_its_recheck_while_lookups_fail(
    services: Services,
) -> None:
    passes = services.passes
    keys = passes.trusted_keys()
    kids, _, _ = passes._issuer_keys or (frozenset(), None, 0.0)
    long_ago = time.monotonic() - passes_module.KEY_STALE_MAX_SECONDS - 1
    passes._issuer_keys = (kids, keys, long_ago)  # due, and every look so far failed
    assert passes.trusted_keys_now() is None  # the caller that looks
    assert passes.trusted_keys_now() is None  # and every other: the set is too old


def test_a_key_published_ahead_signs_only_from_its_time(
    keys_rechecked_at_once: None,
    services: Services,
    client: TestClient,
    clock: FixedClock,
    alice: Visitor,
) -> None:
    old_pass = alice.issue()
    old_kid = _kid_of(old_pass["sd_jwt"])
    rotation = services.passes.rotate_signing_key(timedelta(hours=2))
    assert rotation.signs_from == clock.now() + timedelta(hours=2)
    # Published at once, beside the key that still signs: doors learn it first.
    assert _kids(client) == [rotation.new.kid, old_kid]
    meanwhile = alice.issue()
    assert _kid_of(meanwhile["sd_jwt"]) == old_kid
    assert alice.admitted(meanwhile["sd_jwt"])
    status_path = issued_status_path(services, meanwhile)
    assert _kid_of(client.get(status_path).text) == old_kid
    # A door that looked the keys up before the switch knows the new key when it comes.
    offline = StaticIssuerKeys(
        services.passes.issuer,
        {k["kid"]: k for k in client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]},
    )
    clock.set(rotation.signs_from)
    after = alice.issue()
    assert _kid_of(after["sd_jwt"]) == rotation.new.kid
    assert offline.key_for(services.passes.issuer, rotation.new.kid, 0.0) is not None
    assert alice.admitted(after["sd_jwt"]) and alice.admitted(meanwhile["sd_jwt"])
    assert _kid_of(client.get(status_path).text) == rotation.new.kid
    # The old key signed until the switch: published until its last pass expires.
    assert _kids(client) == [rotation.new.kid, old_kid]


def test_another_process_follows_a_key_published_ahead(
    keys_rechecked_at_once: None, services: Services, clock: FixedClock, alice: Visitor
) -> None:
    old_kid = _kid_of(alice.issue()["sd_jwt"])
    other = build(services.settings, clock=clock)
    try:
        rotation = other.passes.rotate_signing_key(timedelta(minutes=30))
    finally:
        other.close()
    assert _kid_of(alice.issue()["sd_jwt"]) == old_kid
    clock.advance(timedelta(minutes=30))
    assert _kid_of(alice.issue()["sd_jwt"]) == rotation.new.kid


def test_rotations_in_a_row_each_sign_from_their_own_time(
    keys_rechecked_at_once: None, services: Services, clock: FixedClock, alice: Visitor
) -> None:
    first_kid = _kid_of(alice.issue()["sd_jwt"])
    second = services.passes.rotate_signing_key(timedelta(hours=1))
    third = services.passes.rotate_signing_key(timedelta(hours=2))
    assert _kid_of(alice.issue()["sd_jwt"]) == first_kid
    clock.advance(timedelta(hours=1))
    assert _kid_of(alice.issue()["sd_jwt"]) == second.new.kid
    clock.advance(timedelta(hours=1))
    assert _kid_of(alice.issue()["sd_jwt"]) == third.new.kid
    with pytest.raises(ValueError):
        services.passes.rotate_signing_key(timedelta(seconds=-1))


def test_a_server_that_sees_a_new_key_reads_its_start_before_signing(
    services: Services, clock: FixedClock, alice: Visitor
) -> None:
    # The keystore's look at the newest key and the look at start times ran on separate
    # timers: a server could see the new key before its start, and sign with it at once
    # (found in review).
    old_kid = _kid_of(alice.issue()["sd_jwt"])  # both timers fresh, key A
    other = build(services.settings, clock=clock)
    try:
        rotation = other.passes.rotate_signing_key(timedelta(hours=2))
    finally:
        other.close()
    services.ctx.keystore._signing_checked.clear()  # only the keystore looks again
    assert services.passes._signing_key().kid == old_kid
    clock.advance(timedelta(hours=2))
    assert services.passes._signing_key().kid == rotation.new.kid
