"""Finding 1 of issue 11 and the session part of finding 5: nothing of one user is ever shown
to the next in the same tab, a secret is shown once, every page checks that the viewer owns what
its URL names, and the session survives new tabs and returns to the page asked for."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.helpers import (
    LatePageLoads,
    expect,
    gql,
    log_in,
    log_out,
    make_app,
    new_email,
    sign_up,
)

pytestmark = pytest.mark.browser

SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }"
CHANNEL = "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n, visibility: PUBLIC) { id } }"


def test_two_users_in_one_tab_see_nothing_of_each_other(api_server, dashboard_url, context, shot):
    a_email, b_email = new_email("iso-a"), new_email("iso-b")
    a_token, b_token = sign_up(api_server, a_email), sign_up(api_server, b_email)
    b_app, _ = make_app(api_server, b_token, "Bee Bakery")
    page = context.new_page()

    # A creates an app in the dashboard and leaves the key callout open.
    log_in(page, dashboard_url, a_email)
    expect(page).to_have_url(re.compile(r"/apps/?$"))
    page.locator("#new-app").click()
    page.locator("#app-name-input").fill("Ant Secrets")
    page.locator("#create-app").click()
    secret = page.locator("#new-app-secret").inner_text()
    assert "bk_" in secret
    a_app = page.locator(".app-link").first.get_attribute("href").rstrip("/").split("/")[-1]

    # A watches the live page while A's app sends something.
    gql(api_server, CHANNEL, {"a": a_app, "n": "ant-news"}, token=a_token)
    page.goto(f"{dashboard_url}/apps/{a_app}/live")
    expect(page.locator("#live-status")).to_have_text("Connected", timeout=20_000)
    a_key = secret[secret.index("bk_") :].split()[0]
    gql(
        api_server,
        SEND,
        {"i": {"channel": "ant-news", "title": "Ant private title"}},
        api_key=a_key,
    )
    expect(page.locator(".live-notification")).to_contain_text("Ant private title")
    log_out(page)

    # B logs in in the same tab: nothing of A's anywhere.
    log_in(page, dashboard_url, b_email)
    expect(page.locator(".app-card")).to_have_count(1)
    expect(page.locator(".app-card")).to_contain_text("Bee Bakery")
    body = page.locator("body")
    expect(body).not_to_contain_text("Ant Secrets")
    expect(body).not_to_contain_text(a_key)
    assert page.locator("#new-app-secret").count() == 0
    shot(page, "isolation-b-apps")

    page.goto(f"{dashboard_url}/apps/{b_app}/live")
    expect(page.locator("#live-status")).to_have_text("Connected", timeout=20_000)
    expect(page.get_by_text("Waiting for notifications")).to_be_visible()
    expect(body).not_to_contain_text("Ant private title")

    # A's app by its URL: a not-found page, no name, no raw API text.
    for path in (f"/apps/{a_app}", f"/apps/{a_app}/channels", f"/apps/{a_app}/keys"):
        page.goto(f"{dashboard_url}{path}")
        expect(page.locator("#not-found")).to_be_visible()
        expect(body).not_to_contain_text("Ant Secrets")
        expect(body).not_to_contain_text("couldn't find")
    shot(page, "isolation-not-found")


def test_a_channel_of_another_users_app_is_not_shown(api_server, dashboard_url, context):
    a_email, b_email = new_email("chan-a"), new_email("chan-b")
    a_token, b_token = sign_up(api_server, a_email), sign_up(api_server, b_email)
    a_app, _ = make_app(api_server, a_token, "Ant App")
    b_app, _ = make_app(api_server, b_token, "Bee App")
    a_channel = gql(api_server, CHANNEL, {"a": a_app, "n": "ant-only"}, token=a_token)
    page = context.new_page()
    log_in(page, dashboard_url, b_email)
    expect(page.locator(".app-card")).to_have_count(1)
    # B's own app in the URL, A's channel after it.
    page.goto(f"{dashboard_url}/apps/{b_app}/channels/{a_channel['createChannel']['id']}")
    expect(page.locator("#not-found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("ant-only")


def test_a_secret_is_shown_once(api_server, dashboard_url, context):
    email = new_email("once")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Once App")
    page = context.new_page()
    log_in(page, dashboard_url, email)
    expect(page.locator(".app-card")).to_have_count(1)

    page.goto(f"{dashboard_url}/apps/{app_id}/keys")
    page.locator("#create-key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    page.locator("#nav-api-keys").click()  # the same page again: gone
    expect(page.locator("#new-key-secret")).to_have_count(0)
    page.locator("#create-key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    page.reload()  # reload: gone
    expect(page.locator("#create-key")).to_be_visible()
    expect(page.locator("#new-key-secret")).to_have_count(0)

    page.locator("#create-key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    page.locator("#nav-channels").click()  # navigation: gone
    expect(page).to_have_url(re.compile(r"/channels/?$"))
    page.locator("#nav-api-keys").click()
    expect(page.locator("#create-key")).to_be_visible()
    expect(page.locator("#new-key-secret")).to_have_count(0)

    # A revoked key's secret is never shown.
    page.locator("#create-key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    prefix = page.locator("#new-key-secret").inner_text().split("bk_")[1][:4]
    row = page.locator(".key-row", has_text=prefix).first
    row.get_by_role("button", name="Revoke").click()
    page.locator("#confirm-revoke").click()
    expect(page.locator("#new-key-secret")).to_have_count(0)


def test_a_key_made_before_the_page_load_event_is_still_shown(api_server, dashboard_url, context):
    """The key made by a click the server handles before the page's load event is shown once,
    like any other: the load handlers that run after it (they forget secrets shown on other
    pages) must not forget it."""
    email = new_email("quick")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Quick App")
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email)
    expect(page.locator(".app-card")).to_have_count(1)
    page.goto(f"{dashboard_url}/apps/{app_id}/channels")
    expect(page.locator("#nav-api-keys")).to_be_visible()

    loads.holding = True
    page.locator("#nav-api-keys").click()
    page.locator("#create-key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    assert loads.release() == 1  # the page load, held until the key was made and shown
    expect(page.locator(".key-row")).to_have_count(2)  # the page's load has run
    page.wait_for_timeout(500)
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    secret = page.locator("#new-key-secret").inner_text()
    keys = gql(
        api_server,
        "query($a: ID!) { app(id: $a) { apiKeys { prefix } } }",
        {"a": app_id},
        token=token,
    )["app"]["apiKeys"]
    assert len(keys) == 2
    assert sum(k["prefix"] in secret for k in keys) == 1, (keys, len(secret))

    # It is still shown once: the next page load forgets it, of this page too.
    page.locator("#nav-api-keys").click()
    expect(page.locator("#new-key-secret")).to_have_count(0)
    expect(page.locator(".key-row")).to_have_count(2)
    page.locator("#nav-channels").click()
    expect(page).to_have_url(re.compile(r"/channels/?$"))
    page.locator("#nav-api-keys").click()
    expect(page.locator(".key-row")).to_have_count(2)
    expect(page.locator("#new-key-secret")).to_have_count(0)


def test_the_session_survives_a_new_tab_and_log_in_returns_to_the_page(
    api_server, dashboard_url, context
):
    email = new_email("tabs")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Tab App")
    page = context.new_page()
    # Asked for a page while logged out: log in, land on that page.
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/channels")
    expect(page).to_have_url(re.compile(rf"/apps/{app_id}/channels/?$"))
    expect(page.locator("#app-name")).to_have_text("Tab App")
    # A new tab (Ctrl-click) is still logged in.
    other = context.new_page()
    other.goto(f"{dashboard_url}/apps/{app_id}/keys")
    expect(other.locator("#app-name")).to_have_text("Tab App")
    expect(other).to_have_url(re.compile(r"/keys/?$"))
