"""Browser tests: a real `personae serve` process and Debian's Chromium driven by Playwright.

Without Chromium (or the playwright package) these tests skip with the reason,
unless PERSONAE_REQUIRE_BROWSER=1 (CI), which turns a missing browser into a failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers import AGE_GATE, PASSWORD

from personae.bootstrap import build
from personae.config import Settings
from personae.domain.staff import Role
from personae.services.totp import totp

CHROMIUM = os.environ.get("PERSONAE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CLAUSES = [
    {"id": "harassment", "title": "Harassment", "text": "Do not harass.", "severity": "medium"},
    {"id": "spam", "title": "Spam", "text": "Do not spam.", "severity": "low"},
]
# The `personae` command, run by this interpreter (works without the console script).
PERSONAE_CLI = [sys.executable, "-c", "from personae.cli.main import app; app()"]
SCREENSHOTS = os.environ.get("PERSONAE_SCREENSHOTS")  # a folder: keep page screenshots there

pytestmark = pytest.mark.slow


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("PERSONAE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required (PERSONAE_REQUIRE_BROWSER=1): {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright gives each launch a fresh, empty user-data-dir of its own.
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass(frozen=True)
class Site:
    base: str
    data_dir: Path
    env: dict[str, str]
    world_id: str
    world_key: str
    totp_secrets: dict[str, bytes]

    def code(self, username: str) -> str:
        return totp(self.totp_secrets[username], time.time())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _prepare(data_dir: Path, base: str) -> tuple[str, str, dict[str, bytes]]:
    settings = Settings(
        data_dir=data_dir,
        database_url=None,
        web_origin=base,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
    )
    services = build(settings)
    try:
        world = services.worlds.register_unchecked("Aurora Plaza", "ops@aurora.example", AGE_GATE)
        services.policies.publish_unchecked(world.world.id, CLAUSES)
        secrets: dict[str, bytes] = {}
        for username, role, scope in (
            ("mod.one", Role.MODERATOR, world.world.id),
            ("mod.two", Role.MODERATOR, world.world.id),
            ("legal.one", Role.LEGAL_OFFICER, None),
            ("legal.two", Role.LEGAL_OFFICER, None),
        ):
            record = services.staff.create(username, PASSWORD, role, scope)
            text = services.two_factor.enrol(record.id).secret_base32
            secrets[username] = base64.b32decode(text + "=" * (-len(text) % 8))
        return world.world.id, world.api_key, secrets
    finally:
        services.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One `personae serve` on SQLite, reached at http://localhost:<port> (passkeys need a name)."""
    data_dir = tmp_path_factory.mktemp("site") / "var"
    port = _free_port()
    base = f"http://localhost:{port}"
    env = {
        **os.environ,
        "PERSONAE_DATA_DIR": str(data_dir),
        "PERSONAE_WEB_ORIGIN": base,
        "PERSONAE_ISSUER_URL": base,
        "PERSONAE_ARGON2_TIME_COST": "1",
        "PERSONAE_ARGON2_MEMORY_KIB": "1024",
        "PERSONAE_ARGON2_PARALLELISM": "1",
    }
    env.pop("PERSONAE_DATABASE_URL", None)
    world_id, key, secrets = _prepare(data_dir, base)
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*PERSONAE_CLI, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("serve did not start:\n" + log.read_text())
            time.sleep(0.2)
        yield Site(base, data_dir, env, world_id, key, secrets)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert "Traceback" not in log.read_text()


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the page when PERSONAE_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def new_page(browser: Any, site: Site, *, phone: bool = False) -> Any:
    size = {"width": 390, "height": 844} if phone else {"width": 1100, "height": 900}
    context = browser.new_context(base_url=site.base, viewport=size)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.console_errors = errors
    return page


def sign_up(page: Any, handle: str) -> None:
    page.goto("/signup")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my identity").click()
    page.wait_for_url("**/me/identity")


def set_attribute(page: Any, name: str, value: str) -> None:
    page.goto("/me/identity")
    page.get_by_label("Attribute").select_option(name)
    page.get_by_label("Value", exact=True).fill(value)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/me/identity?saved=*")


def staff_sign_in(page: Any, site: Site, username: str) -> None:
    page.goto("/staff/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Authenticator code").fill(site.code(username))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff")
