"""The dashboard end to end in headless chromium, against a real API process.

One flow, the way a person would use it: sign up, create an app and a private
channel, generate an access code, register a device and redeem the code through
the API (as the mobile app would), send a notification from the dashboard, and
watch it reach DELIVERED on the notification page and in the live view, with no
reload. Screenshots of every page go to test-artifacts/dashboard/.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid

import pytest

from tests.dashboard.helpers import PASSWORD, expect, gql
from tests.dashboard.helpers import app_path as path_of_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def suite_clock(timings):
    start = time.monotonic()
    yield
    timings("browser tests (excluding build)", time.monotonic() - start)


def nav(page, item: str) -> None:
    """Click a sidebar entry and wait until its page is the one shown."""
    page.locator(f"#nav-{item}").click()
    suffix = "" if item == "overview" else "/" + {"api-keys": "keys"}.get(item, item)
    expect(page).to_have_url(re.compile(r"/apps/[^/]+" + re.escape(suffix) + r"/?$"))


def test_full_flow(api_server, dashboard_url, context, shot, suite_clock):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"

    # -- sign up --------------------------------------------------------------
    page.goto(f"{dashboard_url}/signup")
    expect(page.locator("#page-title")).to_have_text("Create your account")
    page.locator("#email").fill("not-an-email")
    page.locator("#password").fill("short")
    page.locator("#submit").click()
    expect(page.get_by_text("That doesn't look like an email address.")).to_be_visible()
    expect(page.get_by_text("Use at least 8 characters.")).to_be_visible()
    shot(page, "01-signup-validation")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#submit").click()
    expect(page).to_have_url(re.compile(r"/apps/?$"))
    expect(page.get_by_text("No apps yet")).to_be_visible()
    expect(page.locator("#user-email")).to_have_text(email)
    shot(page, "02-apps-empty")

    # -- create an app --------------------------------------------------------
    page.locator("#new-app").click()
    page.locator("#app-name-input").fill("E2E Shop")
    page.locator("#create-app").click()
    expect(page.locator("#new-app-secret")).to_contain_text("bk_")
    expect(page.locator(".app-card")).to_have_count(1)
    shot(page, "03-apps-created")
    page.locator(".app-link").first.click()
    expect(page).to_have_url(re.compile(r"/apps/[^/]+/?$"))
    expect(page.locator("#app-name")).to_have_text("E2E Shop")
    # A new app shows the first-run guide: channel, device, send.
    expect(page.locator("#first-run-guide")).to_contain_text("Create a channel")
    app_path = path_of_app(page)

    # -- a private channel ----------------------------------------------------
    nav(page, "channels")
    expect(page.get_by_text("No channels yet")).to_be_visible()
    page.locator("#channel-name").fill("bad name!")
    page.locator("#create-channel").click()
    expect(page.locator(".field-error")).to_contain_text("Use only letters")
    page.locator("#channel-name").fill("orders")
    page.locator("#create-channel").click()
    expect(page.locator(".channel-link")).to_have_text("orders")
    expect(page.get_by_text("PRIVATE", exact=True)).to_be_visible()
    shot(page, "04-channels")

    # -- an access code -------------------------------------------------------
    nav(page, "access-codes")
    page.locator("#check-orders").click()
    page.locator("#identifier").fill("customer-42")
    page.locator("#generate-code").click()
    code_el = page.locator("#access-code")
    expect(code_el).to_have_text(
        re.compile(r"^\d{4} \d{4}$")
    )  # 8 digits (the default), in two groups
    code = code_el.inner_text().replace(" ", "")
    first = page.locator("#countdown").inner_text()
    page.wait_for_timeout(2200)
    assert page.locator("#countdown").inner_text() != first, "the expiry countdown does not move"
    shot(page, "05-access-code")
    # Away and back: the countdown goes on (finding 4: it froze).
    nav(page, "channels")
    nav(page, "access-codes")
    expect(code_el).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    again = page.locator("#countdown").inner_text()
    page.wait_for_timeout(2200)
    assert page.locator("#countdown").inner_text() != again, "the countdown froze after navigation"

    # -- a device redeems it through the API (as the mobile app would) --------
    device_token = f"ExponentPushToken[e2e-{uuid.uuid4().hex[:12]}]"
    device_key = gql(
        api_server,
        "mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) { device { id } deviceKey } }",  # noqa: E501
        {"input": {"platform": "EXPO", "token": device_token}},
    )["registerDevice"]["deviceKey"]
    granted = gql(
        api_server,
        "mutation($code: String!, $t: String!) { redeemAccessCode(code: $code, deviceToken: $t) { name } }",  # noqa: E501
        {"code": code, "t": device_token},
        device_key=device_key,
    )["redeemAccessCode"]
    assert [c["name"] for c in granted] == ["orders"]

    nav(page, "channels")
    expect(page.locator(".subscriber-count")).to_have_text("1")
    page.locator(".channel-link").click()
    expect(page.locator("#subscriber-total")).to_contain_text("1 subscribers")
    expect(page.get_by_text("customer-42")).to_be_visible()
    shot(page, "06-subscribers")

    # -- the live view, in a second tab (the session is in local storage: shared) --
    live = context.new_page()
    live.on("pageerror", lambda exc: errors.append(str(exc)))
    live.goto(f"{dashboard_url}{app_path}/live")
    expect(live.locator("#live-status")).to_have_text("Connected", timeout=20_000)
    shot(live, "07-live-connected")

    # -- send from the dashboard ---------------------------------------------
    nav(page, "send")
    expect(page.locator("#send-channel")).to_contain_text("orders")
    page.locator("#send-title").fill("Your order shipped")
    page.locator("#send-body").fill("It arrives on Tuesday.")
    page.locator("#send-data").fill("{not json")
    page.locator("#send-collapse").click()  # leaving the field checks it
    expect(page.get_by_text(re.compile("Not valid JSON"))).to_be_visible()
    shot(page, "08-send-invalid-json")
    page.locator("#send-data").fill('{"orderId": 42}')
    page.locator("#send-collapse").fill("order-42")
    page.locator("#send-ttl").fill("3600")
    page.locator("#send-submit").click()
    expect(page).to_have_url(re.compile(r"/notifications/[^/]+/?$"))
    expect(page.locator("#page-title")).to_have_text("Your order shipped")

    # DELIVERED on the notification page without a reload (the sandbox Expo
    # gives receipts after BOOPER_RECEIPT_DELAY=3 s under `booper dev`).
    expect(page.locator(".delivery-status")).to_have_text("DELIVERED", timeout=45_000)
    expect(page.locator("#count-delivered")).to_contain_text("1")
    # The attempt timeline: the send (Expo's ticket, SENT) and then its receipt (DELIVERED).
    expect(page.locator(".attempt-outcome")).to_have_text(["SENT", "DELIVERED"], timeout=15_000)
    expect(page.locator(".timeline-device")).to_have_count(1)
    shot(page, "09-notification-delivered")

    # ... and in the live view, which was never reloaded.
    expect(live.locator(".live-notification")).to_contain_text("Your order shipped")
    expect(live.locator(".live-delivery-status").first).to_have_text("DELIVERED", timeout=30_000)
    # The card follows: no QUEUED badge beside "1 delivered" (finding 4).
    card = live.locator(".live-notification").first
    expect(card.locator(".live-notification-status")).to_have_text("COMPLETED", timeout=15_000)
    expect(card.locator(".live-tally")).to_contain_text("1 delivered")
    shot(live, "10-live-delivered")
    live.close()

    # -- the list, the overview and the keys ---------------------------------
    nav(page, "notifications")
    expect(page.locator(".notification-link")).to_have_text("Your order shipped")
    # The delivery numbers say what they count (finding 5), not colours alone.
    expect(page.locator(".delivery-counts").first).to_contain_text("1 delivered")
    # Filters (status, channel, time): none canceled; back to any status.
    filters = page.get_by_role("combobox")
    filters.nth(0).click()
    page.get_by_role("option", name="CANCELED").click()
    expect(page.locator(".notification-link")).to_have_count(0)
    filters.nth(0).click()
    page.get_by_role("option", name="any status").click()
    expect(page.locator(".notification-link")).to_have_count(1)
    filters.nth(1).click()
    page.get_by_role("option", name="orders").click()
    expect(page.locator(".notification-link")).to_have_count(1)
    shot(page, "11-notifications")

    nav(page, "overview")
    expect(page.locator("#quota-text")).to_contain_text("1 /")
    expect(page.locator("#delivery-chart")).to_be_visible()
    expect(page.locator("#first-run-guide")).to_have_count(0)  # it has sent: no guide
    shot(page, "12-overview")

    nav(page, "api-keys")
    page.locator("#create-key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    shot(page, "13-api-keys")

    # -- an expired session goes back to log in, with a message -------------
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    expired = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64({'sub': '1', 'exp': 1})}.x"
    page.evaluate("t => localStorage.setItem('booper_token', t)", expired)
    page.goto(f"{dashboard_url}{app_path}/notifications")
    expect(page).to_have_url(re.compile(r"/login/?$"))
    expect(page.locator("#flash")).to_contain_text("session has expired")
    shot(page, "14-login-expired")

    # -- log back in, delete the app (with confirmation), log out -----------
    page.locator("#email").fill(email)
    page.locator("#password").fill("wrong password")
    page.locator("#submit").click()
    expect(page.locator("#auth-error")).to_contain_text("Wrong email or password.")
    page.locator("#password").fill(PASSWORD)
    page.locator("#submit").click()
    expect(page.locator(".app-card")).to_have_count(1)
    page.get_by_role("button", name="Delete app").first.click()
    expect(page.get_by_role("alertdialog")).to_contain_text("cannot be undone")
    # Typed confirmation (finding 5): the button waits for the app's name.
    expect(page.locator("#confirm-delete")).to_be_disabled()
    page.locator("#confirm-delete-typed").fill("E2E Sho")
    expect(page.locator("#confirm-delete")).to_be_disabled()
    page.locator("#confirm-delete-typed").fill("E2E Shop")
    shot(page, "15-delete-confirm")
    page.locator("#confirm-delete").click()
    expect(page.get_by_text("No apps yet")).to_be_visible()
    page.locator("#logout").click()
    expect(page.locator("#flash")).to_contain_text("logged out")
    shot(page, "16-logged-out")

    assert not errors, f"JavaScript errors on the pages: {errors}"
