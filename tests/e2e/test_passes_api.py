"""World passes over HTTP: issue, present, check at the door online, revoke."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from starlette.testclient import TestClient
from tests.helpers import (
    AGE_GATE,
    ALICE,
    GUILD,
    bearer,
    issued_status_path,
    join,
    register,
    world,
)

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.jose import b64url_decode, b64url_encode, public_jwk
from personae.crypto.statuslist import decode_status_list, status_at
from personae.services import passes as passes_module
from personae.store.uow import writer_lock
from personae.verify import DoorCheck, PassRejected, StaticIssuerKeys, StaticStatusLists, present


def _now(client: TestClient) -> Any:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services.ctx.clock.now()


def _setup(services: Services, client: TestClient) -> dict[str, Any]:
    aurora, key = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18", "languages@exact"])
    return {"world": aurora, "key": key, "alice": alice, "persona": persona}


def _issue(client: TestClient, s: dict[str, Any], holder: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/me/personas/{s['persona']}/passes",
        headers=s["alice"],
        json={"holder_jwk": public_jwk(holder)},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _nonce(client: TestClient, s: dict[str, Any]) -> str:
    nonce: str = client.post("/v1/worlds/me/nonces", headers=bearer(s["key"])).json()["nonce"]
    return nonce


def _shown(
    client: TestClient, s: dict[str, Any], sd_jwt: str, holder: Any, only: list[str], nonce: str
) -> str:
    """``sd_jwt`` presented by ``holder`` to the world, disclosing ``only``."""
    return present(
        sd_jwt, holder, audience=s["world"], nonce=nonce, disclose=only, issued_at=_now(client)
    )


def _check(client: TestClient, s: dict[str, Any], presentation: str, nonce: str) -> Any:
    return client.post(
        "/v1/worlds/me/door-check",
        headers=bearer(s["key"]),
        json={"presentation": presentation, "nonce": nonce},
    )


def _door(client: TestClient, s: dict[str, Any], sd_jwt: str, holder: Any, only: list[str]) -> Any:
    nonce = _nonce(client, s)
    presentation = _shown(client, s, sd_jwt, holder, only, nonce)
    return _check(client, s, presentation, nonce), presentation, nonce


def test_issue_check_online_and_offline_then_revoke(services: Services, client: TestClient) -> None:
    s = _setup(services, client)
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = _issue(client, s, holder)
    assert issued["claims"] == ["birth_date@age_over_18", "languages@exact"]
    assert "1991" not in issued["sd_jwt"]

    response, presentation, nonce = _door(
        client, s, issued["sd_jwt"], holder, ["birth_date@age_over_18"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["persona_id"] == s["persona"]
    assert response.json()["claims"] == {"birth_date@age_over_18": True}

    # The nonce was used: replaying the very same request fails.
    replay = client.post(
        "/v1/worlds/me/door-check",
        headers=bearer(s["key"]),
        json={"presentation": presentation, "nonce": nonce},
    )
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:personae:problem:presentation-rejected"

    # Offline, with the issuer metadata and the published status list.
    meta = client.get("/.well-known/jwt-vc-issuer").json()
    keys = StaticIssuerKeys(meta["issuer"], {k["kid"]: k for k in meta["jwks"]["keys"]})
    status = client.get(issued_status_path(services, issued))
    assert status.status_code == 200
    assert status.headers["content-type"].startswith("application/statuslist+jwt")

    revoke = client.delete(
        f"/v1/me/personas/{s['persona']}/passes/{issued['pass_id']}", headers=s["alice"]
    )
    assert revoke.status_code == 204
    after, _, _ = _door(client, s, issued["sd_jwt"], holder, ["birth_date@age_over_18"])
    assert after.status_code == 401
    listed = client.get(f"/v1/me/personas/{s['persona']}/passes", headers=s["alice"]).json()
    assert listed[0]["revoked_at"] is not None
    assert keys.trusts(meta["issuer"])


def _served_status(client: TestClient, services: Services, issued: dict[str, Any]) -> int | None:
    """The pass's status in the status list token served now."""
    response = client.get(issued_status_path(services, issued))
    assert response.status_code == 200
    payload = orjson.loads(b64url_decode(response.text.split(".")[1]))
    bits, data = decode_status_list(payload["status_list"])
    with services.ctx.uow(write=False) as uow:
        record = uow.passes.get(issued["pass_id"])
    assert record is not None
    return status_at(data, record.status_index, bits)


def test_a_revocation_shows_in_the_next_status_list_served_at_the_same_instant(
    services: Services, client: TestClient
) -> None:
    # The served token was once cached by the list's last change time: a revocation
    # written at the same instant (the tests' clock stands still) did not show.
    s = _setup(services, client)
    issued = _issue(client, s, ec.generate_private_key(ec.SECP256R1()))
    assert _served_status(client, services, issued) == 0
    revoke = client.delete(
        f"/v1/me/personas/{s['persona']}/passes/{issued['pass_id']}", headers=s["alice"]
    )
    assert revoke.status_code == 204
    assert _served_status(client, services, issued) == 1


def test_a_revocation_in_a_closed_list_does_not_open_another(
    services: Services, client: TestClient, clock: FixedClock, monkeypatch: Any
) -> None:
    monkeypatch.setattr(passes_module, "STATUS_LIST_FILL", 2)
    s = _setup(services, client)

    def issue() -> tuple[dict[str, Any], str]:
        issued = _issue(client, s, ec.generate_private_key(ec.SECP256R1()))
        return issued, issued_status_path(services, issued)

    (first, closed), (_, also_closed), (_, open_list) = issue(), issue(), issue()
    assert closed == also_closed != open_list
    clock.advance(timedelta(minutes=1))
    revoke = client.delete(
        f"/v1/me/personas/{s['persona']}/passes/{first['pass_id']}", headers=s["alice"]
    )
    assert revoke.status_code == 204
    clock.advance(timedelta(minutes=1))
    assert issue()[1] == open_list  # not a third list


def test_offline_door_check_with_the_sdk(services: Services, client: TestClient) -> None:
    s = _setup(services, client)
    holder = ed25519.Ed25519PrivateKey.generate()
    issued = _issue(client, s, holder)
    meta = client.get("/.well-known/jwt-vc-issuer").json()
    with services.ctx.uow(write=False) as uow:
        record = uow.passes.get(issued["pass_id"])
        assert record is not None
        bits = bytearray(uow.status_lists.bits(record.status_list_id)[0])  # type: ignore[index]
    uri = services.passes.status_list_uri(record.status_list_id)
    keys = StaticIssuerKeys(meta["issuer"], {k["kid"]: k for k in meta["jwks"]["keys"]})
    door = DoorCheck(
        keys, s["world"], StaticStatusLists({uri: bits}), vcts={services.passes.vct_for(s["world"])}
    )
    now = services.ctx.clock.now()
    presentation = present(
        issued["sd_jwt"],
        holder,
        audience=s["world"],
        nonce="n-1",
        disclose=["languages@exact"],
        issued_at=now,
    )
    verified = door.verify(presentation, "n-1", now)
    assert verified.persona_id == s["persona"]
    assert verified.claims == {"languages@exact": ["fr", "en"]}
    # A door that accepts only another world's passes refuses this one offline.
    elsewhere = DoorCheck(
        keys, s["world"], StaticStatusLists({uri: bits}), vcts={services.passes.vct_for("w_x")}
    )
    try:
        elsewhere.verify(presentation, "n-1", now)
    except PassRejected as exc:
        assert exc.reason == "wrong_vct"
    else:
        raise AssertionError("another world's pass type must be refused")
    try:
        door.verify(presentation, "another-nonce", now)
    except PassRejected as exc:
        assert exc.reason == "kb_wrong_nonce"
    else:
        raise AssertionError("a wrong nonce must be rejected")


def test_a_pass_only_opens_its_own_worlds_door(services: Services, client: TestClient) -> None:
    s = _setup(services, client)
    guild, guild_key = world(services, "Guild", GUILD)
    in_guild = join(client, s["alice"], guild, ["occupation@major_group"])
    holder = ec.generate_private_key(ec.SECP256R1())
    response = client.post(
        f"/v1/me/personas/{in_guild}/passes",
        headers=s["alice"],
        json={"holder_jwk": public_jwk(holder)},
    )
    guild_pass = response.json()["sd_jwt"]
    # Alice binds the Guild pass to Aurora's audience and nonce: Aurora still refuses it.
    refused, _, _ = _door(client, s, guild_pass, holder, [])
    assert refused.status_code == 401
    assert guild_key


def test_bad_holder_keys_and_foreign_personas(services: Services, client: TestClient) -> None:
    s = _setup(services, client)
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(private)
    d = {**jwk, "d": "AAAA"}
    identity = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" + bytes(31))}
    for bad in (
        {"kty": "oct", "k": "AAAA"},
        d,
        {"kty": "EC", "crv": "P-256", "x": "A"},
        {},
        identity,  # a point of small order: anyone could sign for it
    ):
        response = client.post(
            f"/v1/me/personas/{s['persona']}/passes", headers=s["alice"], json={"holder_jwk": bad}
        )
        assert response.status_code == 422, bad
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    response = client.post(
        f"/v1/me/personas/{s['persona']}/passes", headers=bob, json={"holder_jwk": jwk}
    )
    assert response.status_code == 404
    garbage = client.post(
        "/v1/worlds/me/door-check",
        headers=bearer(s["key"]),
        json={"presentation": "x~y~", "nonce": "nope"},
    )
    assert garbage.status_code == 401
    assert garbage.json()["detail"] == "presentation rejected"
    assert client.get("/v1/status-lists/sl_unknown").status_code == 404


def test_per_world_pass_lifetime(services: Services, client: TestClient) -> None:
    registered = services.worlds.register_unchecked("Brief", "b@example.org", AGE_GATE, 3600)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, registered.world.id, ["birth_date@age_over_18"])
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": public_jwk(holder)}
    ).json()
    from datetime import datetime

    lifetime = datetime.fromisoformat(issued["expires_at"]) - datetime.fromisoformat(
        issued["issued_at"]
    )
    assert lifetime.total_seconds() == 3600


def test_a_door_check_waits_in_the_thread_pool_while_another_writer_is_busy(
    services: Services, client: TestClient, monkeypatch: Any
) -> None:
    s = _setup(services, client)
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = _issue(client, s, holder)
    pooled: list[str] = []

    def spy_on(name: str) -> None:
        waiting = getattr(services.door, name)

        def spy(*args: Any) -> Any:
            with pytest.raises(RuntimeError):  # in the thread pool: no event loop runs here
                asyncio.get_running_loop()
            pooled.append(name)
            return waiting(*args)

        monkeypatch.setattr(services.door, name, spy)

    spy_on("door_check")
    spy_on("settle")
    for _ in range(2):  # the app looked the issuer's keys up as it started
        response, _, _ = _door(client, s, issued["sd_jwt"], holder, [])
        assert response.status_code == 200
    # On SQLite the checks ran on the event loop; on PostgreSQL their statements went
    # to the pool.
    on_sqlite = services.engine.dialect.name == "sqlite"
    assert pooled == ([] if on_sqlite else ["settle", "settle"])
    pooled.clear()
    services.passes._issuer_keys = None  # as if the keys had never been looked up
    response, _, _ = _door(client, s, issued["sd_jwt"], holder, [])
    assert response.status_code == 200
    assert pooled == ["door_check", "settle"]  # looked up in the thread pool first
    pooled.clear()

    lock = writer_lock(services.engine)
    if lock is None:
        return
    released, acquired = threading.Event(), threading.Event()

    def busy_writer() -> None:
        with lock:
            acquired.set()
            released.wait(5)

    nonce = _nonce(client, s)
    presentation = _shown(client, s, issued["sd_jwt"], holder, ["languages@exact"], nonce)
    writer = threading.Thread(target=busy_writer)
    writer.start()
    try:
        assert acquired.wait(5)
        threading.Timer(0.2, released.set).start()
        response = _check(client, s, presentation, nonce)
    finally:
        released.set()
        writer.join()
    assert response.status_code == 200, response.text
    # After a few short pauses it waited for the writer in the thread pool, not on the loop.
    assert pooled == ["settle"]


def test_a_refused_presentation_uses_its_nonce(
    services: Services, client: TestClient, monkeypatch: Any
) -> None:
    s = _setup(services, client)
    holder = ec.generate_private_key(ec.SECP256R1())
    sd_jwt = _issue(client, s, holder)["sd_jwt"]
    nonce = _nonce(client, s)
    good = _shown(client, s, sd_jwt, holder, [], nonce)
    stranger = ec.generate_private_key(ec.SECP256R1())  # not the key the pass is bound to
    forged = _shown(client, s, sd_jwt, stranger, [], nonce)
    assert _check(client, s, forged, nonce).status_code == 401
    # The genuine presentation comes too late: the refused one used the nonce.
    assert _check(client, s, good, nonce).status_code == 401

    # A defect while verifying surfaces as an error, after the nonce is used all the same.
    def broken(*_args: Any) -> Any:
        raise RuntimeError("a defect")

    nonce = _nonce(client, s)
    good = _shown(client, s, sd_jwt, holder, [], nonce)
    with monkeypatch.context() as patched:
        patched.setattr(DoorCheck, "verify_except_status", broken)
        assert _check(client, s, good, nonce).status_code == 500
    assert _check(client, s, good, nonce).status_code == 401


def _with_issuer_header(
    services: Services, client: TestClient, **members: Any
) -> tuple[dict[str, Any], str, str, str]:
    """A genuine presentation for one nonce, and the same with these members added to the
    issuer JWT's header (unsigned): (setup with its holder and pass, nonce, genuine, forged)."""
    s = _setup(services, client)
    holder = ec.generate_private_key(ec.SECP256R1())
    sd_jwt = _issue(client, s, holder)["sd_jwt"]
    nonce = _nonce(client, s)
    good = _shown(client, s, sd_jwt, holder, [], nonce)
    header64, rest = good.split(".", 1)
    header = orjson.loads(b64url_decode(header64))
    s |= {"holder": holder, "sd_jwt": sd_jwt}
    return s, nonce, good, b64url_encode(orjson.dumps({**header, **members})) + "." + rest


def test_an_issuer_header_alg_that_is_not_a_string_is_an_opaque_refusal(
    services: Services, client: TestClient
) -> None:
    # It once escaped the door as a TypeError: a 500, and a defect in the log.
    s, nonce, good, forged = _with_issuer_header(services, client, alg=["ES256"])
    response = _check(client, s, forged, nonce)
    assert response.status_code == 401
    assert "alg" not in response.text
    assert _check(client, s, good, nonce).status_code == 401  # the nonce is used


def test_the_door_reads_again_only_issuer_headers_that_verified(
    services: Services, client: TestClient
) -> None:
    s, nonce, good, forged = _with_issuer_header(services, client, n=1)
    holder, sd_jwt = s["holder"], s["sd_jwt"]
    header64, variant = good.split(".", 1)[0], forged.split(".", 1)[0]
    assert _check(client, s, forged, nonce).status_code == 401
    door = services.door
    assert variant not in door._known_headers[1]
    nonce = _nonce(client, s)
    assert _check(client, s, _shown(client, s, sd_jwt, holder, [], nonce), nonce).status_code == 200
    assert header64 in door._known_headers[1]
    # Anyone can vary a header's bytes: the door keeps a few, newest in.
    keys = door._known_headers[0]
    assert keys is not None
    for n in range(40):
        door._remember_header(keys, f"header{n}.payload.signature")
        assert f"header{n}" in door._known_headers[1]
        assert len(door._known_headers[1]) <= 16


def test_door_check_bad_input_is_a_problem_that_echoes_nothing(
    services: Services, client: TestClient
) -> None:
    s = _setup(services, client)
    url, key = "/v1/worlds/me/door-check", bearer(s["key"])
    secret = "kb-secret-value"
    cases: list[tuple[Any, list[str]]] = [
        ({"presentation": secret}, ["body", "nonce"]),
        ({"nonce": secret}, ["body", "presentation"]),
        ({"presentation": secret, "nonce": secret, "extra": 1}, ["body", "extra"]),
        ({"presentation": "x" * (16 * 1024 + 1), "nonce": secret}, ["body", "presentation"]),
        ({"presentation": secret, "nonce": "n" * 129}, ["body", "nonce"]),
        ({"presentation": 7, "nonce": secret}, ["body", "presentation"]),
    ]
    for body, loc in cases:
        response = client.post(url, headers=key, json=body)
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["type"] == "urn:personae:problem:invalid-input"
        assert loc in [error["loc"] for error in problem["errors"]]
        assert secret not in response.text
    for raw in (b"{not json", b"[]", b""):
        response = client.post(
            url, headers={**key, "content-type": "application/json"}, content=raw
        )
        assert response.status_code == 422, raw
    # No key, or an unknown one: 401 before the body is read (even a malformed one).
    assert client.post(url, json={"presentation": "p", "nonce": "n"}).status_code == 401
    assert client.post(url, json={"nonce": 7, "extra": True}).status_code == 401
    any_body = {"presentation": "p", "nonce": "n"}
    for unknown in ("pwk_" + "0" * 40, "not-a-world-key"):
        assert client.post(url, headers=bearer(unknown), json=any_body).status_code == 401
