"""Staff in Chromium: a decision through the form, an appeal, a reversal by a second moderator,
a lawful request that needs a second officer, and the transparency page checked by the CLI."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx
from tests.browser.conftest import (
    PERSONAE_CLI,
    Site,
    new_page,
    set_attribute,
    shot,
    sign_up,
    staff_sign_in,
)


def _report(site: Site, persona: str) -> None:
    api = site.base.replace("localhost", "127.0.0.1")
    answer = httpx.post(
        f"{api}/v1/worlds/me/reports",
        headers={"authorization": f"Bearer {site.world_key}"},
        json={
            "persona_id": persona,
            "clause_id": "harassment",
            "location": "the fountain",
            "explanation": "shouted insults at members for an hour",
            "good_faith": True,
        },
    )
    assert answer.status_code == 201, answer.text


def _joined_person(browser: Any, site: Site, handle: str) -> tuple[Any, str]:
    page = new_page(browser, site)
    sign_up(page, handle)
    set_attribute(page, "birth_date", "1988-08-08")
    page.goto(f"/worlds/{site.world_id}/join")
    page.get_by_role("button", name="Join with these items").click()
    page.wait_for_url("**/me/worlds")
    return page, page.locator("section.card code").first.inner_text()


def test_decision_appeal_and_reversal(browser: Any, site: Site) -> None:
    person, persona = _joined_person(browser, site, "rowan")
    _report(site, persona)

    mod = new_page(browser, site)
    staff_sign_in(mod, site, "mod.one")
    nav = mod.get_by_role("navigation", name="Main").inner_text()
    assert "Moderation queue" in nav and "Lawful requests" not in nav
    mod.goto("/staff/queue")
    shot(mod, "moderation-queue")
    mod.locator("table a").first.click()
    mod.wait_for_url("**/staff/cases/*")
    # The form will not submit while a statement-of-reasons field is empty.
    mod.get_by_role("button", name="Decide").click()
    assert "/decide" not in mod.url
    assert mod.locator("#f-measure").evaluate("e => e.validity.valueMissing")
    mod.get_by_label("Measure").select_option("suspension")
    mod.get_by_label("Scope").select_option("world")
    mod.get_by_label("Ends on").fill("2030-01-31")
    mod.get_by_label("Facts and circumstances").fill("Shouted insults at members for an hour.")
    mod.get_by_label("No", exact=True).check()
    mod.get_by_label("Clause relied on").select_option("world:harassment")
    mod.get_by_label("How the clause applies").fill("Insulting members is harassment.")
    shot(mod, "decision-form")
    mod.get_by_role("button", name="Decide").click()
    mod.get_by_text("Decided. The person's notice is in their inbox.").wait_for()

    person.goto("/me/inbox")
    assert "Shouted insults at members" in person.locator("article").first.inner_text()
    shot(person, "inbox")
    person.get_by_label("Appeal this decision: tell the reviewer why it is wrong").fill(
        "I was reading lines from a play with friends."
    )
    person.get_by_role("button", name="Appeal").click()
    person.get_by_text("Your appeal was filed.").wait_for()

    mod.goto("/staff/appeals")
    assert "No appeal awaits you" in mod.locator("table").inner_text()
    second = new_page(browser, site)
    staff_sign_in(second, site, "mod.two")
    second.goto("/staff/appeals")
    second.locator("table a").first.click()
    assert "lines from a play" in second.locator("pre.note").inner_text()
    second.get_by_label("reversed").check()
    second.get_by_label("Reasons").fill("A rehearsal, not aimed at anyone.")
    second.get_by_role("button", name="Decide the appeal").click()
    second.wait_for_url("**/staff/appeals")

    person.goto("/me/inbox")
    inbox = person.locator("main").inner_text()
    assert "A rehearsal, not aimed at anyone." in inbox and "reversed" in inbox
    person.goto("/me/standing")
    assert "Aurora Plaza" in person.locator("main").inner_text()
    for page in (person, mod, second):
        assert page.console_errors == []


def test_a_lawful_request_needs_a_second_officer(browser: Any, site: Site) -> None:
    _person, persona = _joined_person(browser, site, "sasha")
    one = new_page(browser, site)
    staff_sign_in(one, site, "legal.one")
    nav = one.get_by_role("navigation", name="Main").inner_text()
    assert "Lawful requests" in nav and "Moderation queue" not in nav
    one.goto("/staff/lawful")
    one.get_by_label("Authority", exact=True).fill("Zarnia Police")
    one.get_by_label("How the authority was verified").fill("called back on the switchboard")
    one.get_by_label("Jurisdiction (ISO 3166 code)").fill("fr")
    one.get_by_label("Legal process").select_option("subpoena")
    one.get_by_label("Document reference").fill("ZP-2026-1")
    one.get_by_label("SHA-256 of the document").fill("ab" * 32)
    one.get_by_label("World").select_option(site.world_id)
    one.get_by_label("Persona named by the authority").fill(persona)
    one.get_by_label("subscriber").check()
    one.get_by_label("Date range from").fill("2026-01-01")
    one.get_by_label("Date range to").fill("2030-01-01")
    one.get_by_label("Deadline").fill("2030-02-01")
    shot(one, "lawful-intake")
    one.get_by_role("button", name="Record the request").click()
    one.wait_for_url("**/staff/lawful/*")
    assert one.get_by_text("a second legal officer must decide it").is_visible()
    assert one.get_by_role("button", name="Approve").count() == 0
    request_url = one.url

    two = new_page(browser, site)
    staff_sign_in(two, site, "legal.two")
    two.goto(request_url)
    two.get_by_role("button", name="Approve").click()
    two.get_by_role("button", name="Execute").click()
    two.get_by_text("Executed. The signed package is ready.").wait_for()
    with two.expect_download() as download:
        two.get_by_role("link", name="Download the signed package").click()
    assert download.value.suggested_filename.endswith(".jws")
    shot(two, "lawful-request")


def test_transparency_page_shows_a_checkpoint_the_cli_accepts(browser: Any, site: Site) -> None:
    page = new_page(browser, site)
    deadline = time.monotonic() + 30
    while True:
        page.goto("/transparency")
        if page.locator("#checkpoint").count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    note = page.locator("#checkpoint").input_value()
    size = int(note.splitlines()[1])
    assert size >= 1 and "personae log verify --url" in page.locator("main").inner_text()
    shot(page, "transparency")
    verify = subprocess.run(
        [*PERSONAE_CLI, "log", "verify", "--url", site.base],
        env={**site.env, "XDG_STATE_HOME": str(site.data_dir / "verifier-state")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
