"""Issuer keys and status lists over HTTP: metadata, signature checks, caching by ttl and exp."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from tests.unit.passes.pass_world import World, handmade_pass, new_key

from personae.crypto.jose import public_jwk
from personae.crypto.statuslist import new_status_list, set_bit, status_list_token
from personae.verify import (
    DoorCheck,
    HttpIssuerKeys,
    HttpStatusLists,
    PassRejected,
    _http,
    urllib_fetch,
)

METADATA_URL = "https://registry.example/.well-known/jwt-vc-issuer"


class FakeWeb:
    """URL -> body, counting fetches; a missing URL or a body of None fails like a 404."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes | None] = {}
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        body = self.pages.get(url)
        if body is None:
            raise OSError(f"404 {url}")
        return body

    def count(self, url: str) -> int:
        return self.fetched.count(url)


class Registry:
    """The issuer's side: metadata and a status list token, as served over HTTP."""

    def __init__(self, world: World, web: FakeWeb) -> None:
        self.world, self.web = world, web
        self.publish_keys({"k1": world.issuer_key})

    def publish_keys(self, keys: dict[str, Any], **extra: Any) -> None:
        jwks = [{**public_jwk(k), "kid": kid, "use": "sig"} for kid, k in keys.items()]
        document = {"issuer": World.ISSUER, "jwks": {"keys": jwks}, **extra}
        self.web.pages[METADATA_URL] = orjson.dumps(document)

    def publish_status(
        self, *, at: int = World.NOW, ttl: int = 300, exp: int = 3600, **kw: Any
    ) -> None:
        token = status_list_token(
            kw.pop("key", self.world.issuer_key),
            kw.pop("kid", "k1"),
            uri=kw.pop("uri", World.STATUS_URI),
            data=self.world.status,
            issued_at=at,
            expires_at=at + exp,
            ttl=ttl,
            issuer=World.ISSUER,
        )
        self.web.pages[World.STATUS_URI] = token.encode()


@pytest.fixture
def web() -> FakeWeb:
    return FakeWeb()


@pytest.fixture
def registry(world: World, web: FakeWeb) -> Registry:
    served = Registry(world, web)
    served.publish_status()
    return served


def reason(door: DoorCheck, presentation: str, now: int) -> str:
    """The reason ``door`` refuses ``presentation`` at ``now`` (failing if it does not)."""
    with pytest.raises(PassRejected) as caught:
        door.verify(presentation, World.NONCE, now)
    return caught.value.reason


def http_door(web: FakeWeb, **status_options: Any) -> DoorCheck:
    keys = HttpIssuerKeys(World.ISSUER, fetch=web)
    return DoorCheck(keys, World.AUDIENCE, HttpStatusLists(keys, fetch=web, **status_options))


def test_metadata_url_inserts_the_well_known_segment() -> None:
    assert _http.metadata_url("https://a.example") == "https://a.example/.well-known/jwt-vc-issuer"
    assert (
        _http.metadata_url("https://a.example/tenant/7/")
        == "https://a.example/.well-known/jwt-vc-issuer/tenant/7"
    )
    with pytest.raises(ValueError):
        _http.metadata_url("https://a.example/?x=1")
    with pytest.raises(ValueError, match="https"):
        HttpIssuerKeys("http://a.example")
    HttpIssuerKeys("http://localhost:8000", allow_http=True)


def test_door_fetches_once_and_then_works_from_cache(
    world: World, web: FakeWeb, registry: Registry
) -> None:
    door = http_door(web)
    presentation = world.present()
    for second in range(0, 200, 10):
        assert door.verify(presentation, World.NONCE, World.NOW + second).persona_id == "PERSONA7"
    assert web.count(METADATA_URL) == 1
    assert web.count(World.STATUS_URI) == 1


def test_status_list_is_verified_and_decompressed_once_per_fetch(
    world: World, web: FakeWeb, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = _http.verify_status_list_token

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["uri"])
        return real(*args, **kwargs)

    monkeypatch.setattr(_http, "verify_status_list_token", counting)
    door = http_door(web)
    for _ in range(50):
        door.verify(world.present(), World.NONCE, World.NOW)
    assert calls == [World.STATUS_URI]


def test_ttl_expiry_refetches_and_sees_revocation(
    world: World, web: FakeWeb, registry: Registry
) -> None:
    door = http_door(web)
    presentation = world.present()
    door.verify(presentation, World.NONCE, World.NOW)
    set_bit(world.status, 7)
    registry.publish_status(at=World.NOW + 100)
    door.verify(presentation, World.NONCE, World.NOW + 200)  # still the cached list (ttl 300)
    assert reason(door, world.present(issued_at=World.NOW + 300), World.NOW + 300) == "revoked"
    assert web.count(World.STATUS_URI) == 2


def test_ttl_is_capped_by_exp_and_by_max_ttl(
    world: World, web: FakeWeb, registry: Registry
) -> None:
    registry.publish_status(ttl=10_000, exp=600)
    door = http_door(web, max_ttl=100_000)
    door.verify(world.present(), World.NONCE, World.NOW)
    door.verify(world.present(issued_at=World.NOW + 599), World.NONCE, World.NOW + 599)
    assert web.count(World.STATUS_URI) == 1
    registry.publish_status(at=World.NOW + 600, ttl=10_000, exp=100_000)
    door.verify(world.present(issued_at=World.NOW + 600), World.NONCE, World.NOW + 600)
    assert web.count(World.STATUS_URI) == 2
    capped = http_door(web, max_ttl=50)
    capped.verify(world.present(issued_at=World.NOW + 600), World.NONCE, World.NOW + 600)
    capped.verify(world.present(issued_at=World.NOW + 651), World.NONCE, World.NOW + 651)
    assert web.count(World.STATUS_URI) == 4


def test_fetch_failure_falls_back_to_a_list_not_yet_expired(
    world: World, web: FakeWeb, registry: Registry
) -> None:
    door = http_door(web, retry_seconds=30)
    door.verify(world.present(), World.NONCE, World.NOW)
    web.pages[World.STATUS_URI] = None
    later = World.NOW + 400  # past ttl, before exp
    door.verify(world.present(issued_at=later), World.NONCE, later)
    door.verify(world.present(issued_at=later + 10), World.NONCE, later + 10)
    assert web.count(World.STATUS_URI) == 2  # the retry waits retry_seconds
    gone = World.NOW + 3600  # the cached token's exp
    assert reason(door, world.present(issued_at=gone), gone) == "status_unavailable"


def test_no_list_means_status_unavailable(world: World, web: FakeWeb, registry: Registry) -> None:
    web.pages[World.STATUS_URI] = None
    assert reason(http_door(web), world.present(), World.NOW) == "status_unavailable"


@pytest.mark.parametrize(
    "publish",
    [
        {"key": "stranger"},
        {"uri": "https://registry.example/status/other"},
        {"at": World.NOW - 7200},
        {"kid": "k9"},
    ],
    ids=["foreign-signer", "other-uri", "expired-token", "unknown-kid"],
)
def test_untrustworthy_status_tokens_are_not_used(
    world: World, web: FakeWeb, registry: Registry, alg: str, publish: dict[str, Any]
) -> None:
    if publish.get("key") == "stranger":
        publish = {**publish, "key": new_key(alg)}
    registry.publish_status(**publish)
    assert reason(http_door(web), world.present(), World.NOW) == "status_unavailable"


def test_key_rotation_is_picked_up_but_unknown_kids_are_rate_limited(
    world: World, web: FakeWeb, registry: Registry, alg: str
) -> None:
    door = http_door(web)
    door.verify(world.present(), World.NONCE, World.NOW)
    rotated = new_key(alg)
    registry.publish_keys({"k1": world.issuer_key, "k2": rotated})
    new_pass = world.issue(kid="k2", signing_key=rotated)
    # Within a minute of the last fetch, an unknown kid does not trigger another one.
    soon = World.NOW + 30
    assert reason(door, world.present(new_pass.sd_jwt, issued_at=soon), soon) == "unknown_kid"
    assert web.count(METADATA_URL) == 1
    later = World.NOW + 61
    door.verify(world.present(new_pass.sd_jwt, issued_at=later), World.NONCE, later)
    assert web.count(METADATA_URL) == 2
    for attempt in range(5):
        bogus = world.present(world.issue(kid=f"nope{attempt}").sd_jwt, issued_at=later)
        assert reason(door, bogus, later + attempt) == "unknown_kid"
    assert web.count(METADATA_URL) == 2


def test_keys_survive_a_failed_refresh_for_a_while(
    world: World, web: FakeWeb, registry: Registry
) -> None:
    keys = HttpIssuerKeys(World.ISSUER, fetch=web, refresh_seconds=100, max_stale_seconds=1000)
    assert keys.key_for(World.ISSUER, "k1", World.NOW) is not None
    web.pages[METADATA_URL] = None
    assert keys.key_for(World.ISSUER, "k1", World.NOW + 500) is not None
    assert keys.key_for(World.ISSUER, "k1", World.NOW + 1200) is None
    assert keys.key_for("https://other.example", "k1", World.NOW) is None
    assert keys.trusts(World.ISSUER) and not keys.trusts("https://other.example")


@pytest.mark.parametrize(
    "document",
    [
        {"issuer": "https://impostor.example", "jwks": {"keys": []}},
        {"issuer": World.ISSUER},
        {"issuer": World.ISSUER, "jwks": {"keys": []}, "jwks_uri": "https://x"},
        {"issuer": World.ISSUER, "jwks": {"keys": "nope"}},
    ],
    ids=["other-issuer", "no-keys", "both-jwks", "keys-not-list"],
)
def test_bad_metadata_yields_no_keys(web: FakeWeb, document: dict[str, Any]) -> None:
    web.pages[METADATA_URL] = orjson.dumps(document)
    keys = HttpIssuerKeys(World.ISSUER, fetch=web)
    assert keys.key_for(World.ISSUER, "k1", World.NOW) is None


def test_jwks_uri_and_unusable_keys(world: World, web: FakeWeb) -> None:
    jwks = {
        "keys": [
            {**public_jwk(world.issuer_key), "kid": "k1"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {**public_jwk(world.issuer_key), "kid": "enc", "use": "enc"},
            {**public_jwk(world.issuer_key), "kid": "wrong-alg", "alg": "HS256"},
            {**public_jwk(world.issuer_key)},
        ]
    }
    web.pages[METADATA_URL] = orjson.dumps(
        {"issuer": World.ISSUER, "jwks_uri": "https://registry.example/jwks.json"}
    )
    web.pages["https://registry.example/jwks.json"] = orjson.dumps(jwks)
    keys = HttpIssuerKeys(World.ISSUER, fetch=web)
    assert keys.key_for(World.ISSUER, "k1", World.NOW) is not None
    for kid in ("rsa", "hmac", "enc", "wrong-alg"):
        assert keys.key_for(World.ISSUER, kid, World.NOW) is None


def test_duplicate_keys_in_metadata_are_refused(world: World, web: FakeWeb) -> None:
    jwk = orjson.dumps({**public_jwk(world.issuer_key), "kid": "k1"}).decode()
    web.pages[METADATA_URL] = (
        f'{{"issuer":"{World.ISSUER}","issuer":"https://x","jwks":{{"keys":[{jwk}]}}}}'
    ).encode()
    assert HttpIssuerKeys(World.ISSUER, fetch=web).key_for(World.ISSUER, "k1", World.NOW) is None


def test_urllib_fetch_refuses_other_schemes() -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://x"):
        with pytest.raises(ValueError, match="refusing"):
            urllib_fetch(url)


@pytest.fixture
def http_registry(world: World) -> Iterator[tuple[str, dict[str, bytes]]]:
    """A real HTTP server on localhost serving whatever the test puts in ``pages``."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def test_over_real_http_with_urllib(
    world: World, http_registry: tuple[str, dict[str, bytes]]
) -> None:
    base, pages = http_registry
    status_uri = f"{base}/status/7"
    pages["/.well-known/jwt-vc-issuer"] = orjson.dumps(
        {"issuer": base, "jwks": {"keys": [{**public_jwk(world.issuer_key), "kid": "k1"}]}}
    )
    pages["/status/7"] = status_list_token(
        world.issuer_key,
        "k1",
        uri=status_uri,
        data=new_status_list(64),
        issued_at=World.NOW,
        expires_at=World.NOW + 600,
        ttl=60,
    ).encode()
    sd_jwt = handmade_pass(
        world, {}, [], iss=base, status={"status_list": {"idx": 7, "uri": status_uri}}
    )
    keys = HttpIssuerKeys(base, allow_http=True)
    door = DoorCheck(keys, World.AUDIENCE, HttpStatusLists(keys, allow_http=True))
    assert door.verify(world.present(sd_jwt, disclose=()), World.NONCE, World.NOW).issuer == base


# -- bounded fetches, one list at a time, only from the issuer's origin -------------


def test_urllib_fetch_gives_up_on_a_trickling_server() -> None:
    # Each byte within the read timeout, the whole far beyond the deadline (review).
    class Trickle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "40")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/status"
        with pytest.raises(TimeoutError):
            urllib_fetch(url, timeout=2.0, deadline=0.5)
    finally:
        server.shutdown()
        server.server_close()


class SlowWeb(FakeWeb):
    """A FakeWeb whose fetches of ``slow`` wait until ``release`` is set."""

    def __init__(self, slow: str) -> None:
        super().__init__()
        self.slow, self.release, self.started = slow, threading.Event(), threading.Event()

    def __call__(self, url: str) -> bytes:
        if url == self.slow:
            self.started.set()
            assert self.release.wait(10)
        return super().__call__(url)


def _list_token(world: World, uri: str, *, at: int = World.NOW, ttl: int = 300) -> bytes:
    return status_list_token(
        world.issuer_key,
        "k1",
        uri=uri,
        data=world.status,
        issued_at=at,
        expires_at=at + 3600,
        ttl=ttl,
        issuer=World.ISSUER,
    ).encode()


def _finishes(call: Any) -> Any:
    """Run ``call`` in a thread; its result, or fail if it is still waiting after 5 s."""
    result: list[Any] = []
    runner = threading.Thread(target=lambda: result.append(call()), daemon=True)
    runner.start()
    runner.join(5)
    assert not runner.is_alive(), "waited on another fetch"
    return result[0]


def test_a_slow_list_does_not_hold_up_other_lists_or_a_usable_copy(world: World) -> None:
    slow_uri, other_uri = World.STATUS_URI, f"{World.ISSUER}/status/8"
    web = SlowWeb(slow_uri)
    Registry(world, web)
    web.pages[other_uri] = _list_token(world, other_uri)
    keys = HttpIssuerKeys(World.ISSUER, fetch=web)
    lists = HttpStatusLists(keys, fetch=web)
    web.release.set()
    web.pages[slow_uri] = _list_token(world, slow_uri, ttl=60)
    assert lists.status(World.ISSUER, slow_uri, 7, World.NOW) == 0
    web.release.clear()  # the next fetch of the slow list hangs until released
    later = World.NOW + 120  # past its ttl, before its exp: stale but usable
    fetching = threading.Thread(target=lambda: lists.status(World.ISSUER, slow_uri, 7, later))
    fetching.start()
    assert web.started.wait(5)
    try:
        assert _finishes(lambda: lists.status(World.ISSUER, other_uri, 7, later)) == 0
        assert _finishes(lambda: lists.status(World.ISSUER, slow_uri, 7, later)) == 0
    finally:
        web.release.set()
        fetching.join()
    assert web.count(slow_uri) == 2  # the second caller did not fetch again


def test_a_door_without_the_list_waits_for_the_fetch_in_flight(world: World) -> None:
    web = SlowWeb(World.STATUS_URI)
    Registry(world, web)
    web.pages[World.STATUS_URI] = _list_token(world, World.STATUS_URI)
    keys = HttpIssuerKeys(World.ISSUER, fetch=web)
    assert keys.key_for(World.ISSUER, "k1", World.NOW) is not None
    lists = HttpStatusLists(keys, fetch=web)
    results: list[int | None] = []
    first = threading.Thread(
        target=lambda: results.append(lists.status(World.ISSUER, World.STATUS_URI, 7, World.NOW))
    )
    first.start()
    assert web.started.wait(5)
    second = threading.Thread(
        target=lambda: results.append(lists.status(World.ISSUER, World.STATUS_URI, 7, World.NOW))
    )
    second.start()
    web.release.set()
    first.join()
    second.join()
    assert results == [0, 0]
    assert web.count(World.STATUS_URI) == 1


def test_status_lists_are_fetched_only_from_the_issuers_origin(
    world: World, web: FakeWeb, registry: Registry
) -> None:
    elsewhere = "https://169.254.169.254/latest/meta-data/x"
    userinfo = "https://registry.example@attacker.example/status/7"
    for uri in (elsewhere, userinfo, "https://registry.example:8443/status/7"):
        sd_jwt = handmade_pass(world, {}, [], status={"status_list": {"idx": 7, "uri": uri}})
        web.pages[uri] = _list_token(world, uri)
        shown = world.present(sd_jwt, disclose=())
        assert reason(http_door(web), shown, World.NOW) == "status_unavailable"
        assert web.count(uri) == 0
    # A list host the world trusts for this issuer, named explicitly.
    cdn = "https://lists.registry.example/status/7"
    web.pages[cdn] = _list_token(world, cdn)
    sd_jwt = handmade_pass(world, {}, [], status={"status_list": {"idx": 7, "uri": cdn}})
    door = http_door(web, list_origins=["https://lists.registry.example"])
    assert door.verify(world.present(sd_jwt, disclose=()), World.NONCE, World.NOW)
    assert web.count(cdn) == 1


def test_a_jwks_uri_is_fetched_only_from_the_issuers_origin(world: World, web: FakeWeb) -> None:
    jwks = orjson.dumps({"keys": [{**public_jwk(world.issuer_key), "kid": "k1"}]})
    for where, origins in (
        ("https://keys.example/jwks.json", ()),
        ("https://keys.example/jwks.json", ("https://keys.example",)),
        ("https://registry.example/jwks.json", ()),
    ):
        web.pages[METADATA_URL] = orjson.dumps({"issuer": World.ISSUER, "jwks_uri": where})
        web.pages[where] = jwks
        keys = HttpIssuerKeys(World.ISSUER, fetch=web, key_origins=origins)
        allowed = bool(origins) or where.startswith(World.ISSUER)
        assert (keys.key_for(World.ISSUER, "k1", World.NOW) is not None) is allowed
    assert web.count("https://keys.example/jwks.json") == 1  # only where it was allowed


def test_decoded_lists_kept_stay_within_their_byte_budget(world: World) -> None:
    web = FakeWeb()
    Registry(world, web)
    keys = HttpIssuerKeys(World.ISSUER, fetch=web)
    size = len(world.status)
    lists = HttpStatusLists(keys, fetch=web, max_total_bytes=2 * size)
    uris = [f"{World.ISSUER}/status/{n}" for n in range(4)]
    for uri in uris:
        web.pages[uri] = _list_token(world, uri)
        assert lists.status(World.ISSUER, uri, 7, World.NOW) == 0
    assert list(lists._cache) == uris[2:]
    assert lists._cached_bytes == 2 * size
    assert lists.status(World.ISSUER, uris[0], 7, World.NOW) == 0  # fetched again
    assert web.count(uris[0]) == 2


def test_a_waiter_finds_the_list_the_moment_the_fetch_is_over(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fetch was marked over before its list was kept: a door waiting for it could
    # wake to find nothing and refuse a valid pass (found in review).
    web = SlowWeb(World.STATUS_URI)
    Registry(world, web)
    web.pages[World.STATUS_URI] = _list_token(world, World.STATUS_URI)
    keys = HttpIssuerKeys(World.ISSUER, fetch=web)
    assert keys.key_for(World.ISSUER, "k1", World.NOW) is not None
    lists = HttpStatusLists(keys, fetch=web)
    real_keep = HttpStatusLists._keep

    def slow_keep(self: HttpStatusLists, uri: str, entry: Any) -> None:
        time.sleep(0.05)  # a thread switch at the wrong moment
        real_keep(self, uri, entry)

    monkeypatch.setattr(HttpStatusLists, "_keep", slow_keep)
    results: dict[str, int | None] = {}

    def check(name: str) -> None:
        results[name] = lists.status(World.ISSUER, World.STATUS_URI, 7, World.NOW)

    fetcher = threading.Thread(target=check, args=("fetcher",))
    fetcher.start()
    assert web.started.wait(5)
    waiter = threading.Thread(target=check, args=("waiter",))
    waiter.start()
    time.sleep(0.05)  # let it reach the wait for the fetch in flight
    web.release.set()
    fetcher.join()
    waiter.join()
    assert results == {"fetcher": 0, "waiter": 0}
