"""A passkey registered from the account page and used to sign in (CDP virtual authenticator)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Site, new_page, shot, sign_up


def test_register_a_passkey_then_sign_in_with_it(browser: Any, site: Site) -> None:
    page = new_page(browser, site)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    sign_up(page, "paula")
    page.goto("/me/account")
    page.get_by_label("Name for the new passkey").fill("laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_text("laptop — added").wait_for()
    shot(page, "account")

    page.get_by_role("button", name="Sign out").click()
    page.goto("/signin")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(site.base + "/")
    assert page.get_by_role("heading", name="Your identity").is_visible()
    page.goto("/me/account")
    assert "last used" in page.get_by_text("laptop").inner_text()
    assert page.console_errors == []
