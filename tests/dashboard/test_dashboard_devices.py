"""Issue 11, the devices page: an app's devices with their channels, searched by the identifier
an access code gave or the end of a token, live or dead, and removed from a channel."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.dashboard.helpers import expect, gql, log_in, make_app, new_email, sign_up

pytestmark = pytest.mark.browser

REGISTER = (
    "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { deviceKey } }"
)
SUBSCRIBE = "mutation($t: String!, $c: ID!) { subscribe(deviceToken: $t, channelId: $c) { id } }"


def test_devices_page(api_server, dashboard_url, context, shot):
    email = new_email("devices")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Device App")
    channel = gql(
        api_server,
        'mutation($a: ID!) { createChannel(appId: $a, name: "alerts", visibility: PUBLIC) { id } }',
        {"a": app_id},
        token=token,
    )["createChannel"]["id"]
    tokens = [f"ExponentPushToken[dev-{uuid.uuid4().hex[:10]}]" for _ in range(2)]
    for t in tokens:
        key = gql(api_server, REGISTER, {"t": t})["registerDevice"]["deviceKey"]
        gql(api_server, SUBSCRIBE, {"t": t, "c": channel}, device_key=key)

    page = context.new_page()
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/devices")
    expect(page.locator("#page-title")).to_have_text("Devices")
    expect(page.locator(".device-row")).to_have_count(2)
    expect(page.locator(".device-channel").first).to_contain_text("alerts")
    shot(page, "devices")

    hint = tokens[0].rstrip("]")[-6:]  # the token hint the page shows (search matches no more of a token)
    page.locator("#device-search").fill(hint)
    page.locator("#device-search-go").click()
    expect(page.locator(".device-row")).to_have_count(1)
    page.locator("#device-search").fill("")
    page.locator("#device-search-go").click()
    expect(page.locator(".device-row")).to_have_count(2)

    page.locator(".remove-from-channel").first.click()
    expect(page.locator(".device-channel")).to_have_count(1)
    subs = gql(
        api_server,
        "query($c: ID!) { channel(id: $c) { subscriberCount } }",
        {"c": channel},
        token=token,
    )
    assert subs["channel"]["subscriberCount"] == 1

    # A test notification to one device: its notification page, one delivery.
    page.locator(".send-test").first.click()
    expect(page).to_have_url(re.compile(r"/notifications/[^/]+/?$"))
    expect(page.locator("#page-title")).to_have_text("Test notification")
    expect(page.locator(".delivery-status")).to_have_count(1)
