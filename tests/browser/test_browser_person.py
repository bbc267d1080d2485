"""A person in Chromium: sign up, add attributes, join declining an optional item, see the read."""

from __future__ import annotations

from typing import Any

import httpx
from tests.browser.conftest import Site, new_page, set_attribute, shot, sign_up


def test_sign_up_attributes_join_and_disclosure(browser: Any, site: Site) -> None:
    page = new_page(browser, site)
    page.goto("/")
    shot(page, "landing")
    sign_up(page, "alice")
    # A wrong value gets its message beside the field, and nothing is saved.
    page.get_by_label("Attribute").select_option("birth_date")
    page.get_by_label("Value", exact=True).fill("1991-02-30")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#e-value")
    assert "not a real calendar date" in error.inner_text()
    assert page.get_by_label("Value", exact=True).get_attribute("aria-invalid") == "true"
    page.console_errors.clear()  # the 422 answer above was the point
    set_attribute(page, "birth_date", "1991-04-12")
    set_attribute(page, "languages", "fr, en")
    set_attribute(page, "country_of_residence", "FR")
    shot(page, "identity")

    page.goto(f"/worlds/{site.world_id}/join")
    assert page.get_by_text("Why: room suggestions").is_visible()
    shot(page, "join")
    page.get_by_label("languages@exact").uncheck()  # decline the optional item
    page.get_by_role("button", name="Join with these items").click()
    page.wait_for_url("**/me/worlds")
    card = page.locator("section.card").first
    assert "Aurora Plaza" in card.inner_text()
    persona = card.locator("code").first.inner_text()
    row = card.locator("tr", has_text="languages@exact")
    assert "not granted" in row.inner_text()
    shot(page, "my-worlds")

    # The world reads the persona: it gets the predicate, never the date nor the languages.
    seen = httpx.get(
        f"{site.base.replace('localhost', '127.0.0.1')}/v1/worlds/me/personas/{persona}",
        headers={"authorization": f"Bearer {site.world_key}"},
    ).json()
    assert seen["items"] == {"birth_date@age_over_18": True}
    page.goto("/me/disclosures")
    table = page.locator("table").inner_text()
    assert "Aurora Plaza" in table and "birth_date@age_over_18" in table
    assert "1991" not in table and "languages" not in table
    shot(page, "disclosures")

    # Withdraw with htmx (the card is swapped in place), keyboard only.
    page.goto("/me/worlds")
    withdraw = page.get_by_role("button", name="Withdraw birth_date@age_over_18 from Aurora Plaza")
    withdraw.focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Grant birth_date@age_over_18 to Aurora Plaza").wait_for()
    assert page.url.endswith("/me/worlds")
    assert page.console_errors == []  # no CSP violation, no script error


def test_readable_on_a_phone(browser: Any, site: Site) -> None:
    page = new_page(browser, site, phone=True)
    sign_up(page, "phoebe")
    set_attribute(page, "birth_date", "1990-01-01")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing forces sideways scrolling
    shot(page, "identity-phone")
