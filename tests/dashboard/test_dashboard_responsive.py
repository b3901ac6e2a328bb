"""Finding 3 of issue 11: every page at phone width (390x844) fits the screen (nothing scrolls
sideways), the menu collapses behind a button with log-out in it; and screenshots of every page
at 1440x900 and 390x844 in test-artifacts/dashboard/."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.dashboard.helpers import (
    expect,
    gql,
    log_in,
    log_out,
    make_app,
    new_email,
    next_address,
    sign_up,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
REGISTER = "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { deviceKey } }"
SUBSCRIBE = "mutation($t: String!, $c: ID!) { subscribe(deviceToken: $t, channelId: $c) { id } }"


@pytest.fixture(scope="module")
def filled_app(api_server):
    """An account with an app that has a channel and a notification: every page has content."""
    email = new_email("pages")
    token = sign_up(api_server, email)
    app_id, key = make_app(api_server, token, "Responsive Rockets")
    channel = gql(
        api_server,
        'mutation($a: ID!) { createChannel(appId: $a, name: "launches", visibility: PUBLIC) { id } }',
        {"a": app_id},
        token=token,
    )["createChannel"]["id"]
    # A subscribed device: the notification page shows a delivery and its attempt timeline.
    device_token = f"ExponentPushToken[pages-{uuid.uuid4().hex[:10]}]"
    device_key = gql(api_server, REGISTER, {"t": device_token})["registerDevice"]["deviceKey"]
    gql(api_server, SUBSCRIBE, {"t": device_token, "c": channel}, device_key=device_key)
    sent = gql(
        api_server,
        "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }",
        {"i": {"channel": "launches", "title": "Lift-off at 09:00", "body": "T-minus one hour."}},
        api_key=key,
    )["sendNotification"]["id"]
    return {"email": email, "app": app_id, "channel": channel, "notification": sent}


def _pages(app: dict) -> list[tuple[str, str]]:
    base = f"/apps/{app['app']}"
    return [
        ("apps", "/apps"),
        ("overview", base),
        ("send", f"{base}/send"),
        ("notifications", f"{base}/notifications"),
        ("notification", f"{base}/notifications/{app['notification']}"),
        ("live", f"{base}/live"),
        ("channels", f"{base}/channels"),
        ("subscribers", f"{base}/channels/{app['channel']}"),
        ("access-codes", f"{base}/access-codes"),
        ("api-keys", f"{base}/keys"),
        ("settings", f"{base}/settings"),
        ("webhooks", f"{base}/webhooks"),
        ("devices", f"{base}/devices"),
        ("people", f"{base}/people"),
        ("providers", f"{base}/providers"),
        ("account", "/account"),
        ("not-found", "/apps/999999999"),
    ]


def _overflow(page) -> int:
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_fits_and_is_captured(
    api_server, dashboard_url, browser, filled_app, shot, size
):
    viewport = PHONE if size == "phone" else DESKTOP
    ctx = browser.new_context(
        viewport=viewport, extra_http_headers={"X-Forwarded-For": next_address()}
    )
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        page.goto(f"{dashboard_url}/login")
        expect(page.locator("#email")).to_be_visible()
        assert _overflow(page) <= 0, "the log-in page scrolls sideways"
        icon = page.locator("link[rel=icon]").first.get_attribute("href")
        assert page.request.get(f"{dashboard_url}{icon}").ok, f"no favicon at {icon}"
        shot(page, f"{size}-login")
        log_in(page, dashboard_url, filled_app["email"])
        expect(page.locator(".app-card")).to_have_count(1)
        too_wide = {}
        for name, path in _pages(filled_app):
            page.goto(f"{dashboard_url}{path}")
            expect(page.locator("#page-title, #not-found").first).to_be_visible()
            expect(page.locator(".loading")).to_have_count(0)
            if name == "notification":  # its delivery's attempt timeline fits the phone too
                expect(page.locator(".timeline-attempt").first).to_be_visible(timeout=30_000)
            page.wait_for_timeout(200)
            shot(page, f"{size}-{name}")
            overflow = _overflow(page)
            if overflow > 0:
                too_wide[name] = overflow
        assert not too_wide, f"pages scroll sideways at {viewport['width']} px by: {too_wide}"
        if size == "phone":
            # The menu: collapsed behind a button, and it holds the app's pages and log-out.
            page.goto(f"{dashboard_url}/apps/{filled_app['app']}")
            expect(page.locator("#page-title")).to_be_visible()
            expect(page.locator("#logout")).to_be_hidden()
            page.locator("#menu-toggle").click()
            expect(page.locator("#mobile-menu")).to_be_visible()
            shot(page, "phone-menu-open")
            page.locator("#mobile-menu").get_by_text("Channels").click()
            expect(page).to_have_url(re.compile(r"/channels/?$"))
            expect(page.locator("#mobile-menu")).to_be_hidden()
            log_out(page)
    finally:
        ctx.close()
