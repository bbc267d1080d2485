"""Page security over a real app: CSP and headers, cookie flags, CSRF, rate limits, roles."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, PASSWORD, world
from tests.web.helpers import csrf, sign_up, staff_member, staff_sign_in

from personae.bootstrap import Services
from personae.domain.staff import Role
from personae.services.totp import totp
from personae.web.security import CSP, PRE_COOKIE, SESSION_COOKIE


def test_pages_carry_a_csp_with_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/", "/signin", "/signup", "/worlds", "/static/style.css", "/staff/signin"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "script-src 'self'" in CSP and "style-src 'self'" in CSP
    page = client.get("/signin").text
    assert "<script>" not in page and " style=" not in page and "<style" not in page
    sources = re.findall(r"<script[^>]*src=\"([^\"]+)\"", page)
    assert sources and all(src.startswith("/static/") for src in sources)
    # The API keeps its own answers (its docs page needs its own scripts).
    assert "content-security-policy" not in client.get("/healthz").headers


def test_session_cookie_is_httponly_lax_and_secure_over_https(
    services: Services, client: TestClient
) -> None:
    sign_up(client, "alice")
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie and cookie.startswith("pst_")
    token = csrf(client, "/")
    answer = client.post(
        "/signin",
        data={"csrf_token": token, "handle": "alice", "password": PASSWORD},
        follow_redirects=False,
    )
    set_cookie = answer.headers.get_list("set-cookie")
    session = next(c for c in set_cookie if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    # A new session id on every sign-in.
    assert client.cookies.get(SESSION_COOKIE) != cookie

    secure = TestClient(client.app, base_url="https://testserver")
    first = secure.get("/signin")
    assert "Secure" in first.headers["set-cookie"] and PRE_COOKIE in first.headers["set-cookie"]


def test_forms_without_a_valid_csrf_token_change_nothing(client: TestClient) -> None:
    sign_up(client, "alice")
    for data in ({}, {"csrf_token": "forged"}):
        refused = client.post(
            "/me/identity", data={**data, "name": "country_of_residence", "value": "FR"}
        )
        assert refused.status_code == 403
        assert "expired" in refused.text
    assert "FR" not in client.get("/me/identity").text.split("Add or change")[0]

    # A token from another browser's session does not fit this one.
    other = TestClient(client.app)
    sign_up(other, "bob")
    stolen = csrf(other, "/me/identity")
    refused = client.post(
        "/me/identity", data={"csrf_token": stolen, "name": "country_of_residence", "value": "FR"}
    )
    assert refused.status_code == 403
    # Sign-up and sign-in forms are protected too, before any session exists.
    fresh = TestClient(client.app)
    assert fresh.post("/signin", data={"handle": "alice", "password": PASSWORD}).status_code == 403
    ok = client.post(
        "/me/identity",
        data={
            "csrf_token": csrf(client, "/me/identity"),
            "name": "country_of_residence",
            "value": "FR",
        },
    )
    assert ok.status_code == 200 and "Saved country_of_residence" in ok.text


def test_sign_in_errors_are_generic_and_attempts_are_limited(client: TestClient) -> None:
    sign_up(TestClient(client.app), "alice")
    token = csrf(client, "/signin")
    unknown = client.post(
        "/signin", data={"csrf_token": token, "handle": "nobody", "password": PASSWORD}
    )
    wrong = client.post(
        "/signin",
        data={"csrf_token": token, "handle": "alice", "password": "a wrong passphrase here"},
    )
    assert unknown.status_code == wrong.status_code == 401
    message = "Sign-in failed. Check your handle and password."
    assert message in unknown.text and message in wrong.text
    statuses = [
        client.post(
            "/signin",
            data={"csrf_token": token, "handle": "alice", "password": "a wrong passphrase here"},
        ).status_code
        for _ in range(6)
    ]
    assert statuses[-1] == 429 and 401 in statuses
    # Even the right password is refused while the account's bucket is empty.
    right = client.post(
        "/signin", data={"csrf_token": token, "handle": "alice", "password": PASSWORD}
    )
    assert right.status_code == 429


def test_navigation_follows_the_role_and_the_server_enforces_it(
    services: Services, client: TestClient
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    legal = staff_member(services, "legal.one", Role.LEGAL_OFFICER)
    mod = staff_member(services, "mod.one", Role.MODERATOR, aurora)
    staff_sign_in(client, services, "legal.one", legal)
    home = client.get("/staff").text
    assert 'href="/staff/lawful"' in home and 'href="/staff/holds"' in home
    assert 'href="/staff/queue"' not in home and 'href="/staff/appeals"' not in home
    assert client.get("/staff/queue").status_code == 403
    assert client.get("/staff/appeals").status_code == 403
    assert client.get("/staff/lawful").status_code == 200
    assert client.get("/me/identity").status_code == 401  # staff are not persons

    moderator = TestClient(client.app)
    staff_sign_in(moderator, services, "mod.one", mod)
    home = moderator.get("/staff").text
    assert 'href="/staff/queue"' in home and 'href="/staff/lawful"' not in home
    assert moderator.get("/staff/lawful").status_code == 403
    assert moderator.get("/staff/holds").status_code == 403
    assert moderator.get("/staff/queue").status_code == 200

    person = TestClient(client.app)
    sign_up(person, "alice")
    assert 'href="/staff' not in person.get("/").text.split("<footer")[0]
    assert person.get("/staff/queue").status_code == 401


def test_a_password_only_staff_token_does_not_open_the_pages(
    services: Services, client: TestClient
) -> None:
    secret = staff_member(services, "mod.one", Role.MODERATOR)
    body = {"username": "mod.one", "password": PASSWORD}
    assert client.post("/v1/staff/sessions", json=body).status_code == 401  # enrolled: code too
    code = totp(bytes.fromhex(secret), services.ctx.clock.now().timestamp())
    api = client.post("/v1/staff/sessions", json={**body, "code": code})
    assert api.status_code == 201
    # An API token (a bearer credential) still does not open the pages.
    client.cookies.set(SESSION_COOKIE, api.json()["token"])
    assert client.get("/staff/queue").status_code == 401
    client.cookies.set(SESSION_COOKIE, api.json()["token"] + ".forged-mac")
    assert client.get("/staff/queue").status_code == 401


def test_staff_sign_in_is_generic_and_needs_the_code(
    services: Services, client: TestClient
) -> None:
    staff_member(services, "mod.one", Role.MODERATOR)
    token = csrf(client, "/staff/signin")
    refused = client.post(
        "/staff/signin",
        data={"csrf_token": token, "username": "mod.one", "password": PASSWORD, "code": "000000"},
    )
    assert refused.status_code == 401
    assert "Sign-in failed. Check your username, password and code." in refused.text
    assert client.get("/staff").status_code == 401
