"""A page acts only on what it loaded for the URL it is at. After a navigation a page first shows
its state from its last visit (another app's rows, another notification, another channel) and
its load runs a moment later; the browser may even send a click before the page's load event.
LatePageLoads holds that event back, so the click reaches the server first every time."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from dashboard.people_forms import person_path
from tests.dashboard.helpers import LatePageLoads, expect, gql, log_in, make_app, new_email, sign_up

pytestmark = pytest.mark.browser

CHANNEL = (
    "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n, visibility: PUBLIC)"
    " { id } }"
)
SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }"
KEYS = "query($a: ID!) { app(id: $a) { apiKeys { prefix revokedAt } } }"
STILL_LOADING = "This page is still loading; try again."  # what a click too early is told
REGISTER = (
    "mutation($t: String!, $i: String) { registerDevice(input: {platform: EXPO, token: $t, identifier: $i})"
    " { device { id } } }"
)
TITLES = "query($a: ID!) { notifications(appId: $a) { nodes { title channel { name } } } }"


def _two_apps(api) -> tuple[str, str, str, str]:
    """An account with apps Ant and Bee: (email, JWT, Ant's id, Bee's id)."""
    email = new_email("stale")
    token = sign_up(api, email)
    ant, _ = make_app(api, token, "Ant App")
    bee, _ = make_app(api, token, "Bee App")
    return email, token, ant, bee


def _channel(api, token: str, app_id: str, name: str) -> str:
    return gql(api, CHANNEL, {"a": app_id, "n": name}, token=token)["createChannel"]["id"]


def _sent(api, token: str, app_id: str) -> list[tuple[str, str]]:
    """The app's notifications: (title, channel name)."""
    nodes = gql(api, TITLES, {"a": app_id}, token=token)["notifications"]["nodes"]
    return [(n["title"], n["channel"]["name"]) for n in nodes]


def _to_app(page, app_id: str, nav: str) -> None:
    """From a page of one app to a page of another, by clicks (no reload): All apps, the app's
    card, then the sidebar link `nav`."""
    page.get_by_role("link", name="All apps").click()
    page.locator(f'.app-link[href="/apps/{app_id}"]').click()
    expect(page).to_have_url(re.compile(rf"/apps/{app_id}/?$"))
    page.locator(nav).click()


def test_the_send_page_sends_to_no_channel_of_the_last_app(api_server, dashboard_url, context):
    """Bee's Send page first offers Ant's channels. A send from it went to Ant's channel (with no
    appId beside the channel id, the API had nothing to check it against)."""
    email, token, ant, bee = _two_apps(api_server)
    _channel(api_server, token, ant, "ant-news")
    _channel(api_server, token, bee, "bee-news")
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email)
    expect(page.locator(".app-card")).to_have_count(2)
    page.goto(f"{dashboard_url}/apps/{ant}/send")
    expect(page.locator("#send-channel")).to_contain_text("ant-news")

    loads.holding = True
    _to_app(page, bee, "#nav-send")
    expect(page).to_have_url(re.compile(rf"/apps/{bee}/send/?$"))
    expect(page.locator("#send-channel")).to_contain_text("ant-news")  # the last visit's list
    page.locator("#send-title").fill("Sent too early")
    page.locator("#send-submit").click()
    expect(page.locator("#send-error")).to_contain_text(STILL_LOADING)

    assert loads.release() >= 1
    expect(page.locator("#send-channel")).to_contain_text("bee-news")
    page.locator("#send-channel").click()
    expect(page.get_by_role("option")).to_have_count(1)  # Bee's channel only
    page.keyboard.press("Escape")
    page.locator("#send-title").fill("Sent on time")
    page.locator("#send-submit").click()
    expect(page).to_have_url(re.compile(rf"/apps/{bee}/notifications/"))
    assert _sent(api_server, token, ant) == []
    assert _sent(api_server, token, bee) == [("Sent on time", "bee-news")]


def test_a_key_of_the_last_app_is_not_revoked_from_the_next_ones_page(
    api_server, dashboard_url, context
):
    email, token, ant, bee = _two_apps(api_server)
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email)
    expect(page.locator(".app-card")).to_have_count(2)
    page.goto(f"{dashboard_url}/apps/{ant}/keys")
    expect(page.locator(".key-row")).to_have_count(1)
    ant_prefix = gql(api_server, KEYS, {"a": ant}, token=token)["app"]["apiKeys"][0]["prefix"]
    bee_prefix = gql(api_server, KEYS, {"a": bee}, token=token)["app"]["apiKeys"][0]["prefix"]
    expect(page.locator(".key-row")).to_contain_text(ant_prefix)

    loads.holding = True
    _to_app(page, bee, "#nav-api-keys")
    expect(page).to_have_url(re.compile(rf"/apps/{bee}/keys/?$"))
    row = page.locator(".key-row")
    expect(row).to_contain_text(ant_prefix)  # the last visit's rows, until the load has run
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text(STILL_LOADING)).to_be_visible()
    expect(page.locator("#confirm-revoke")).to_have_count(0)

    assert loads.release() >= 1
    expect(page.locator(".key-row")).to_have_count(1)
    expect(page.locator(".key-row")).to_contain_text(bee_prefix)
    keys = {app: gql(api_server, KEYS, {"a": app}, token=token)["app"]["apiKeys"] for app in (ant, bee)}
    assert [k["revokedAt"] for k in keys[ant] + keys[bee]] == [None, None]


def test_another_apps_rows_are_gone_before_the_page_loads_and_a_new_secret_stays(
    api_server, dashboard_url, context
):
    """The app changed (its load ran on Bee's overview): every page of the last app's is back to
    its defaults at once, so Bee's key page never shows Ant's keys. A key made on Bee's page
    before its load is Bee's, and shown once like any other (the reset keeps it)."""
    email, token, ant, bee = _two_apps(api_server)
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email)
    expect(page.locator(".app-card")).to_have_count(2)
    page.goto(f"{dashboard_url}/apps/{ant}/keys")
    expect(page.locator(".key-row")).to_have_count(1)
    page.get_by_role("link", name="All apps").click()
    page.locator(f'.app-link[href="/apps/{bee}"]').click()
    expect(page.locator("#app-name")).to_have_text("Bee App")

    loads.holding = True
    page.locator("#nav-api-keys").click()
    expect(page).to_have_url(re.compile(rf"/apps/{bee}/keys/?$"))
    expect(page.locator("#create-key")).to_be_visible()
    expect(page.locator(".key-row")).to_have_count(0)  # Ant's key is not shown here
    page.locator("#create-key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("bk_")
    assert loads.release() == 1
    expect(page.locator(".key-row")).to_have_count(2)
    page.wait_for_timeout(500)
    secret = page.locator("#new-key-secret").inner_text()
    prefixes = [k["prefix"] for k in gql(api_server, KEYS, {"a": bee}, token=token)["app"]["apiKeys"]]
    assert sum(p in secret for p in prefixes) == 1, (prefixes, len(secret))


def test_an_edit_begun_before_the_load_is_not_the_last_notifications(
    api_server, dashboard_url, context
):
    email = new_email("stale-edit")
    token = sign_up(api_server, email)
    app_id, key = make_app(api_server, token, "Edit App")
    _channel(api_server, token, app_id, "news")
    first, second = (
        gql(api_server, SEND, {"i": {"channel": "news", "title": t}}, api_key=key)[
            "sendNotification"
        ]["id"]
        for t in ("First title", "Second title")
    )
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/notifications")
    expect(page.locator(".notification-link")).to_have_count(2)
    page.locator(".notification-link", has_text="First title").click()
    expect(page.locator("#page-title")).to_have_text("First title")

    loads.holding = True
    page.locator("#nav-notifications").click()
    page.locator(".notification-link", has_text="Second title").click()
    expect(page).to_have_url(re.compile(rf"/notifications/{second}/?$"))
    expect(page.locator("#page-title")).to_have_text("First title")  # the last one, for now
    page.locator("#edit-notification").click()
    expect(page.get_by_text(STILL_LOADING)).to_be_visible()
    expect(page.locator("#edit-title")).to_have_count(0)

    assert loads.release() >= 1
    expect(page.locator("#page-title")).to_have_text("Second title")
    page.locator("#edit-notification").click()
    expect(page.locator("#edit-title")).to_have_value("Second title")
    page.locator("#edit-title").fill("Second title, edited")
    page.locator("#save-edit").click()
    expect(page.locator("#page-title")).to_have_text("Second title, edited")
    query = "query($n: ID!) { notification(id: $n) { title } }"
    titles = [gql(api_server, query, {"n": n}, token=token)["notification"]["title"]
              for n in (first, second)]
    assert titles == ["First title", "Second title, edited"]


def test_a_channels_settings_are_not_saved_to_the_next_channel(api_server, dashboard_url, context):
    email = new_email("stale-settings")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Settings App")
    alarms = _channel(api_server, token, app_id, "alarms")
    chat = _channel(api_server, token, app_id, "chat")
    gql(
        api_server,
        "mutation($c: ID!) { updateChannel(id: $c, critical: true, digestWindow: 300) { id } }",
        {"c": alarms},
        token=token,
    )
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/channels")
    expect(page.locator(".channel-link")).to_have_count(2)
    page.locator(".channel-link", has_text="alarms").click()
    expect(page.locator("#channel-summary")).to_have_text("critical, digest 5 min")

    loads.holding = True
    page.locator("#nav-channels").click()
    page.locator(".channel-link", has_text="chat").click()
    expect(page).to_have_url(re.compile(rf"/channels/{chat}/?$"))
    expect(page.locator("#channel-summary")).to_have_text("critical, digest 5 min")  # alarms'
    page.locator("#save-channel-settings").click()
    expect(page.get_by_text(STILL_LOADING)).to_be_visible()

    assert loads.release() >= 1
    expect(page.locator("#page-title")).to_have_text("#chat")
    expect(page.locator("#channel-summary")).to_have_text("no digest")
    settings = "query($c: ID!) { channel(id: $c) { critical digestWindow } }"
    assert gql(api_server, settings, {"c": chat}, token=token)["channel"] == {
        "critical": False,
        "digestWindow": None,
    }


@pytest.mark.parametrize(
    ("nav", "link"), [("#nav-channels", ".channel-link"), ("#nav-notifications", ".notification-link")]
)
def test_a_row_shown_from_the_last_app_links_into_the_urls_app(
    api_server, dashboard_url, context, nav, link
):
    """Until its load has run, Bee's list shows Ant's rows: their links stay in Bee (where the
    page says not found) instead of leading back into Ant."""
    email, token, ant, bee = _two_apps(api_server)
    _channel(api_server, token, ant, "ant-news")
    gql(api_server, SEND, {"i": {"appId": ant, "channel": "ant-news", "title": "Ant's"}}, token=token)
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email)
    expect(page.locator(".app-card")).to_have_count(2)
    page.goto(f"{dashboard_url}/apps/{ant}")
    page.locator(nav).click()
    expect(page.locator(link)).to_have_count(1)

    loads.holding = True
    _to_app(page, bee, nav)
    expect(page.locator("#page-title")).to_be_visible()
    expect(page.locator(link)).to_have_count(1)  # Ant's row, until the load has run
    expect(page.locator(link)).to_have_attribute("href", re.compile(rf"^/apps/{bee}/"))
    page.locator(link).click()
    expect(page).to_have_url(re.compile(rf"/apps/{bee}/\w+/[^/]+/?$"))
    assert loads.release() >= 1
    expect(page.locator("#not-found")).to_be_visible()


def test_the_sidebar_marks_the_page_in_the_url_before_its_load(api_server, dashboard_url, context):
    """The link for the page the URL names is marked at once, even while the server is still busy
    with an earlier event (the path it knows is the last page's until it hears of this one)."""
    email, _, ant, _ = _two_apps(api_server)
    page = context.new_page()
    loads = LatePageLoads(page, events=("on_load_internal", "update_vars_internal"))
    log_in(page, dashboard_url, email, path=f"/apps/{ant}")
    expect(page.locator("#app-name")).to_have_text("Ant App")
    page.locator("#nav-channels").click()
    expect(page.locator("#page-title")).to_have_text("Channels")
    page.mouse.move(0, 0)
    clear = "rgba(0, 0, 0, 0)"  # an unmarked link's background (away from the pointer)
    overview, channels = page.locator("#nav-overview > div"), page.locator("#nav-channels > div")
    expect(channels).not_to_have_css("background-color", clear)
    expect(overview).to_have_css("background-color", clear)

    loads.holding = True
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/apps/{ant}/?$"))
    expect(overview).not_to_have_css("background-color", clear)
    expect(channels).to_have_css("background-color", clear)
    assert loads.release() == 2
    expect(page.locator("#page-title")).to_have_text("Overview")
    expect(overview).not_to_have_css("background-color", clear)
    expect(channels).to_have_css("background-color", clear)


def test_a_persons_send_button_names_the_person_in_the_url_before_its_load(
    api_server, dashboard_url, context
):
    """Back from Ant's ada to Bee's person, the page first shows ada: its Send button led to
    Ant's send page, ada preset. It names the person (and app) the URL names, encoded afresh."""
    email = new_email("stale")
    token = sign_up(api_server, email)
    odd = "team/ops 50%?"  # a "/", a "%" and a "?" in the identifier
    ant, ant_key = make_app(api_server, token, "Ant App")
    bee, bee_key = make_app(api_server, token, "Bee App")
    for key, identifier in ((ant_key, "ada"), (bee_key, odd)):
        gql(api_server, REGISTER, {"t": f"ExponentPushToken[stale-{key[-8:]}]", "i": identifier}, api_key=key)
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email, path=person_path(bee, odd))
    expect(page.locator("#page-title")).to_have_text(odd)
    bee_send = f"/apps/{bee}/send?to={quote(odd, safe='')}"
    expect(page.locator("#person-send")).to_have_attribute("href", bee_send)
    _to_app(page, ant, "#nav-people")
    page.locator(".person-link").click()
    expect(page.locator("#page-title")).to_have_text("ada")
    expect(page.locator("#person-send")).to_have_attribute("href", f"/apps/{ant}/send?to=ada")

    loads.holding = True
    page.go_back()  # Ant's people list
    page.go_back()  # Ant's overview
    page.go_back()  # All apps
    page.go_back()  # Bee's person, painted with ada's state
    expect(page).to_have_url(re.compile(re.escape(person_path(bee, odd)) + "/?$"))
    expect(page.locator("#page-title")).to_have_text("ada")  # the last page's state, until the load
    expect(page.locator("#person-send")).to_have_attribute("href", bee_send)
    assert loads.release() >= 1
    expect(page.locator("#page-title")).to_have_text(odd)
    page.locator("#person-send").click()
    expect(page.locator("#send-identifiers")).to_have_value(odd)
