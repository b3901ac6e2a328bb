"""Finding 2 of issue 11: the dashboard forwards each browser's address to the API (proved with
BOOPER_PROXY_SECRET), so one person's failed log-ins lock out that person, not everyone."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.helpers import PASSWORD, expect, new_email, sign_up

pytestmark = pytest.mark.browser


def _context(browser, address: str):
    ctx = browser.new_context(
        viewport={"width": 1440, "height": 900}, extra_http_headers={"X-Forwarded-For": address}
    )
    ctx.set_default_timeout(15_000)
    return ctx


def test_failed_log_ins_at_one_address_do_not_lock_out_another(
    api_server, dashboard_url, browser, shot
):
    victim = new_email("victim")
    sign_up(api_server, victim)
    attacker_ctx = _context(browser, "198.51.100.66")
    victim_ctx = _context(browser, "198.51.100.77")
    try:
        attacker = attacker_ctx.new_page()
        attacker.goto(f"{dashboard_url}/login")
        # The page's scripts loaded and hydrated: a first click on the server-rendered button
        # before that does nothing (a CI run beside two other test passes waited 15 s for the
        # answer to a click that never left the page).
        attacker.wait_for_load_state("networkidle")
        attacker.locator("#email").fill(new_email("nobody"))
        attacker.locator("#password").fill("wrong password")
        error = attacker.locator("#auth-error")
        for _ in range(20):  # BOOPER_AUTH_RATE is 10/minute per address (and per account)
            expect(attacker.locator("#submit")).to_be_enabled()
            attacker.locator("#submit").click()
            expect(error).to_be_visible()
            attacker.wait_for_timeout(300)  # the answer to this click, not the last one
            if "Try again in" in error.inner_text():
                break
        expect(error).to_contain_text(re.compile(r"Try again in \d+ seconds?"))
        shot(attacker, "throttle-locked-out")

        page = victim_ctx.new_page()
        page.goto(f"{dashboard_url}/login")
        page.locator("#email").fill(victim)
        page.locator("#password").fill(PASSWORD)
        page.locator("#submit").click()
        expect(page).to_have_url(re.compile(r"/apps/?$"))
        expect(page.locator("#user-email")).to_have_text(victim)
    finally:
        attacker_ctx.close()
        victim_ctx.close()
