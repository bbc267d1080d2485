"""One sign-in limiter for the whole app: the API's sign-ins share the pages' buckets.

Per account (person handle or staff username, in the services' canonical form) and
per client address; sign-up is limited per address only.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from tests.helpers import PASSWORD
from tests.web.helpers import csrf, sign_up, staff_member

from personae.bootstrap import Services
from personae.domain.staff import Role
from personae.services.totp import totp

WRONG = "a wrong passphrase here"


def _from(client: TestClient, host: str) -> TestClient:
    """Another browser or API client of the same app, at another client address."""
    return TestClient(client.app, client=(host, 50000))


def _page_sign_in(client: TestClient, handle: str, password: str) -> httpx.Response:
    token = csrf(client, "/signin")
    return client.post(
        "/signin",
        data={"csrf_token": token, "handle": handle, "password": password},
        follow_redirects=False,
    )


def _staff_page_sign_in(
    client: TestClient, username: str, password: str, code: str
) -> httpx.Response:
    token = csrf(client, "/staff/signin")
    return client.post(
        "/staff/signin",
        data={"csrf_token": token, "username": username, "password": password, "code": code},
        follow_redirects=False,
    )


def _api_sign_in(client: TestClient, handle: str, password: str) -> httpx.Response:
    return client.post("/v1/sessions", json={"handle": handle, "password": password})


def _api_staff_sign_in(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/staff/sessions", json=body)


def _assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429 and body["type"] == "urn:personae:problem:too-many-attempts"
    assert "token" not in body
    assert 1 <= int(response.headers["retry-after"]) <= 300


# -- 1. the API sign-ins are limited, with the pages' buckets ---------------------------------


def test_api_person_sign_in_is_refused_after_wrong_page_attempts(client: TestClient) -> None:
    sign_up(_from(client, "10.0.0.9"), "alice")
    statuses = [_page_sign_in(client, "alice", WRONG).status_code for _ in range(6)]
    assert statuses[-1] == 429
    # The account's bucket is the same over the API: even the right password waits.
    _assert_too_many(_api_sign_in(client, "alice", PASSWORD))
    # ... from any address, in any spelling of the handle.
    _assert_too_many(_api_sign_in(_from(client, "10.0.0.2"), "  ALICE ", PASSWORD))


def test_api_person_sign_in_is_limited_per_account(client: TestClient) -> None:
    sign_up(_from(client, "10.0.0.9"), "alice")
    statuses = [_api_sign_in(client, "alice", WRONG).status_code for _ in range(5)]
    assert statuses == [401] * 5
    _assert_too_many(_api_sign_in(client, "alice", PASSWORD))
    # The page refuses the same account, and the account only: bob still signs in.
    assert _page_sign_in(_from(client, "10.0.0.3"), "alice", PASSWORD).status_code == 429
    sign_up(_from(client, "10.0.0.9"), "bob")
    assert _api_sign_in(client, "bob", PASSWORD).status_code == 201


def test_api_sign_in_is_limited_per_address_across_accounts(client: TestClient) -> None:
    statuses = [_api_sign_in(client, f"guess{n}", WRONG).status_code for n in range(30)]
    assert statuses == [401] * 30
    _assert_too_many(_api_sign_in(client, "guess99", WRONG))
    _assert_too_many(_api_staff_sign_in(client, {"username": "admin", "password": WRONG}))
    # Another address is not held back by this one.
    assert _api_sign_in(_from(client, "10.0.0.4"), "guess100", WRONG).status_code == 401


def test_api_staff_sign_in_is_limited_per_account(services: Services, client: TestClient) -> None:
    services.staff.create("admin", PASSWORD, Role.ADMIN)  # not enrolled: password alone
    wrong = {"username": "admin", "password": WRONG}
    statuses = [_api_staff_sign_in(client, wrong).status_code for _ in range(5)]
    assert statuses == [401] * 5
    right = {"username": "admin", "password": PASSWORD}
    _assert_too_many(_api_staff_sign_in(client, right))
    _assert_too_many(_api_staff_sign_in(_from(client, "10.0.0.5"), right))


def test_api_staff_sign_in_is_refused_after_wrong_page_attempts(
    services: Services, client: TestClient
) -> None:
    secret = staff_member(services, "mod.one", Role.MODERATOR)
    for _ in range(5):
        assert _staff_page_sign_in(client, "mod.one", WRONG, "000000").status_code == 401
    code = totp(bytes.fromhex(secret), services.ctx.clock.now().timestamp())
    body = {"username": "mod.one", "password": PASSWORD, "code": code}
    _assert_too_many(_api_staff_sign_in(_from(client, "10.0.0.6"), body))


def _routes(routes: list[Any]) -> list[tuple[str, set[str]]]:
    """Every route's path and methods, through included routers too."""
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += _routes(inner.routes)
        elif hasattr(route, "path"):
            found.append((route.path, set(getattr(route, "methods", None) or ())))
    return found


def test_every_sign_in_route_is_limited(services: Services, client: TestClient) -> None:
    """Once an address's bucket is empty, every way in answers 429 for it.

    The list of routes is checked against the app's own, so a new sign-in route
    that is not limited (or not listed here) fails this test.
    """
    limited = {
        "/signin",
        "/signup",
        "/staff/signin",
        "/signin/passkey",
        "/signin/passkey/options",
        "/v1/sessions",
        "/v1/staff/sessions",
    }
    ways_in = {
        path
        for path, methods in _routes(client.app.routes)  # type: ignore[attr-defined]
        if "POST" in methods and any(word in path for word in ("signin", "signup", "session"))
    }
    assert ways_in == limited
    for n in range(30):
        assert _api_sign_in(client, f"guess{n}", WRONG).status_code == 401
    _assert_too_many(_api_sign_in(client, "guess99", WRONG))
    _assert_too_many(_api_staff_sign_in(client, {"username": "x", "password": WRONG}))
    token = csrf(client, "/signin")
    pages = {
        "/signin": {"handle": "someone", "password": WRONG},
        "/signup": {"handle": "someone", "password": PASSWORD, "password_again": PASSWORD},
        "/staff/signin": {"username": "someone", "password": WRONG, "code": "000000"},
    }
    for path, data in pages.items():
        refused = client.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 429, path
        assert "Too many" in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 300
    for path in ("/signin/passkey/options", "/signin/passkey"):
        refused = client.post(path, json={}, headers={"x-csrf-token": token})
        assert refused.status_code == 429, path


# -- 2. the staff account's bucket cannot be escaped by spelling the name differently ----


@pytest.mark.parametrize("spelling", [" mod.one", "mod.one\t", "MOD.ONE", " Mod.One \n"])
def test_staff_page_limit_holds_for_every_spelling_of_the_username(
    services: Services, client: TestClient, spelling: str
) -> None:
    secret = staff_member(services, "mod.one", Role.MODERATOR)
    for _ in range(5):
        assert _staff_page_sign_in(client, "mod.one", WRONG, "000000").status_code == 401
    code = totp(bytes.fromhex(secret), services.ctx.clock.now().timestamp())
    other = _from(client, "10.0.0.7")
    refused = _staff_page_sign_in(other, spelling, PASSWORD, code)
    assert refused.status_code == 429
    assert "personae_session" not in other.cookies


# -- 3. sign-up is limited per address, not for the whole site --------------------------------


def _bad_sign_up(client: TestClient) -> int:
    token = csrf(client, "/signup")
    return client.post(
        "/signup",
        data={
            "csrf_token": token,
            "handle": "mallory",
            "password": PASSWORD,
            "password_again": "not the same passphrase",
        },
    ).status_code


def test_failed_sign_ups_from_one_address_do_not_block_others(client: TestClient) -> None:
    statuses = [_bad_sign_up(client) for _ in range(8)]
    assert statuses == [422] * 8
    sign_up(_from(client, "10.0.0.8"), "alice")


def test_sign_up_is_still_limited_per_address(client: TestClient) -> None:
    statuses = [_bad_sign_up(client) for _ in range(31)]
    assert statuses[:30] == [422] * 30 and statuses[30] == 429


def test_a_person_called_signup_does_not_share_a_bucket_with_sign_up(client: TestClient) -> None:
    sign_up(_from(client, "10.0.0.10"), "signup")
    for _ in range(6):
        _page_sign_in(_from(client, "10.0.0.11"), "signup", WRONG)
    sign_up(_from(client, "10.0.0.12"), "carol")
