"""Builders for page tests: CSRF tokens from forms, a signed-in person, staff with TOTP."""

from __future__ import annotations

import base64
import re

from starlette.testclient import TestClient
from tests.helpers import PASSWORD

from personae.bootstrap import Services
from personae.domain.staff import Role
from personae.services.totp import totp

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str) -> str:
    """The CSRF token of the first form on ``path``."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = _CSRF.search(page.text)
    assert found, f"no form on {path}"
    return found.group(1)


def post(client: TestClient, path: str, form_page: str, data: dict[str, object]) -> object:
    return client.post(path, data={"csrf_token": csrf(client, form_page), **data})


def sign_up(client: TestClient, handle: str) -> None:
    token = csrf(client, "/signup")
    response = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "handle": handle,
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def staff_member(services: Services, username: str, role: Role, world_id: str | None = None) -> str:
    """Create a staff member and enrol their second factor; their TOTP secret (raw bytes, hex)."""
    record = services.staff.create(username, PASSWORD, role, world_id)
    enrolment = services.two_factor.enrol(record.id)
    padded = enrolment.secret_base32 + "=" * (-len(enrolment.secret_base32) % 8)
    return base64.b32decode(padded).hex()


def staff_sign_in(client: TestClient, services: Services, username: str, secret_hex: str) -> None:
    code = totp(bytes.fromhex(secret_hex), services.ctx.clock.now().timestamp())
    token = csrf(client, "/staff/signin")
    response = client.post(
        "/staff/signin",
        data={"csrf_token": token, "username": username, "password": PASSWORD, "code": code},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
