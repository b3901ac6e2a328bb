"""Issues 12 and 13 in the dashboard: the People page (list, search, empty state), the person
page (devices and unlinking, preferences saved and reloaded, export as JSON, erase with typed
confirmation), sending to people and devices from the Send page, not-found for a person that is
not the viewer's, and both widths without sideways scrolling (screenshots of each)."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote

import pytest

from dashboard.people_forms import person_path
from tests.dashboard.helpers import expect, gql, log_in, make_app, new_email, next_address, sign_up

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
CHANNEL = "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n, visibility: PUBLIC) { id } }"
REGISTER = (
    "mutation($t: String!, $i: String) { registerDevice(input: {platform: EXPO, token: $t, "
    "identifier: $i}) { device { id } } }"
)
PERSON = """query($a: ID!, $i: String!) { person(appId: $a, identifier: $i) {
  identifier unreadCount devices { id active }
  preferences { mutedChannels { name } quietHours { start end timeZone } } } }"""
DELIVERIES = "query($n: ID!) { deliveries(notificationId: $n) { nodes { status device { id } } } }"
ODD = "team/ops 50%?"  # a "/" and a "%" and a "?": the identifier travels URL-encoded


def _device(api: dict, key: str, identifier: str | None) -> str:
    token = f"ExponentPushToken[people-{uuid.uuid4().hex[:12]}]"
    return gql(api, REGISTER, {"t": token, "i": identifier}, api_key=key)["registerDevice"][
        "device"
    ]["id"]


def _app_with_people(api: dict) -> dict:
    """An account and an app with two channels and three persons: ada (two devices), ODD (one)
    and bob (one); and an unidentified device."""
    email = new_email("people")
    token = sign_up(api, email)
    app_id, key = make_app(api, token, "People Place")
    for name in ("news", "promo"):
        gql(api, CHANNEL, {"a": app_id, "n": name}, token=token)
    devices = {
        "ada": [_device(api, key, "ada@example.com"), _device(api, key, "ada@example.com")],
        ODD: [_device(api, key, ODD)],
        "bob": [_device(api, key, "bob")],
        None: [_device(api, key, None)],
    }
    return {"email": email, "token": token, "app": app_id, "key": key, "devices": devices}


def _person(api: dict, app: dict, identifier: str) -> dict | None:
    return gql(api, PERSON, {"a": app["app"], "i": identifier}, token=app["token"])["person"]


def _overflow(page) -> int:
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")


def test_people_list_search_and_person_page(api_server, dashboard_url, context, shot):
    app = _app_with_people(api_server)
    page = context.new_page()
    base = f"/apps/{app['app']}"
    log_in(page, dashboard_url, app["email"], path=f"{base}/people")
    expect(page.locator("#page-title")).to_have_text("People")
    expect(page.locator("#nav-people")).to_be_visible()
    rows = page.locator(".person-row")
    expect(rows).to_have_count(3)
    ada = rows.filter(has_text="ada@example.com")
    expect(ada.locator(".person-devices")).to_have_text("2 devices")
    expect(ada.locator(".person-unread")).to_have_text("0")
    expect(ada.locator(".online-dot")).to_have_count(1)
    shot(page, "people-list-search")

    page.locator("#people-search").fill("ad")
    page.locator("#people-search-go").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ada@example.com")
    page.locator("#people-search").fill("zzz")
    page.locator("#people-search-go").click()
    expect(page.locator("#people-no-match")).to_be_visible()
    page.locator("#people-search").fill("team/")
    page.locator("#people-search-go").click()
    expect(rows).to_have_count(1)

    # The odd identifier's page: reached by its link, the identifier decoded from the URL.
    page.locator(".person-link").first.click()
    expect(page).to_have_url(re.compile(re.escape(person_path(app["app"], ODD)) + "/?$"))
    expect(page.locator("#page-title")).to_have_text(ODD)
    expect(page.locator(".person-device")).to_have_count(1)

    # ada's page: two devices; unlinking one leaves one, for the API too.
    page.goto(f"{dashboard_url}{person_path(app['app'], 'ada@example.com')}")
    expect(page.locator("#page-title")).to_have_text("ada@example.com")
    expect(page.locator(".person-device")).to_have_count(2)
    expect(page.locator(".person-device-state").first).to_have_text("active")
    shot(page, "person-devices")
    page.locator(".unlink-device").first.click()
    expect(page.locator(".person-device")).to_have_count(1)
    assert len(_person(api_server, app, "ada@example.com")["devices"]) == 1

    # A fresh app: the empty state says how persons come to exist and links to the snippets.
    other, _ = make_app(api_server, app["token"], "Nobody Yet")
    page.goto(f"{dashboard_url}/apps/{other}/people")
    expect(page.locator("#people-empty")).to_contain_text("identifyDevice")
    expect(page.locator("#people-empty")).to_contain_text("access code")
    page.locator("#people-settings-link").click()
    expect(page).to_have_url(re.compile(rf"/apps/{other}/settings/?$"))
    expect(page.locator(".snippet").first).to_be_visible()


def test_preferences_saved_and_reloaded(api_server, dashboard_url, context):
    app = _app_with_people(api_server)
    page = context.new_page()
    log_in(page, dashboard_url, app["email"], path=person_path(app["app"], "bob"))
    expect(page.locator("#page-title")).to_have_text("bob")
    page.locator(".muted-channel[data-channel=promo]").click()
    page.locator("#quiet-on").click()
    # The default zone is the browser's (headless chromium here: one the select offers, or UTC).
    assert page.locator("#quiet-zone").input_value() != ""
    page.locator("#quiet-start").fill("22:00")
    page.locator("#quiet-end").fill("22:00")
    page.locator("#prefs-save").click()
    expect(page.locator(".field-error")).to_have_text("The end must differ from the start.")
    assert _person(api_server, app, "bob")["preferences"]["quietHours"] is None  # nothing sent

    page.locator("#quiet-end").fill("07:30")
    expect(page.locator(".field-error")).to_have_count(0)  # the error goes as the field changes
    page.locator("#quiet-zone").select_option("Europe/Berlin")
    page.locator("#prefs-save").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    prefs = _person(api_server, app, "bob")["preferences"]
    assert [c["name"] for c in prefs["mutedChannels"]] == ["promo"]
    assert prefs["quietHours"] == {"start": "22:00", "end": "07:30", "timeZone": "Europe/Berlin"}

    page.reload()
    expect(page.locator("#page-title")).to_have_text("bob")
    expect(page.locator(".muted-channel[data-channel=promo]")).to_be_checked()
    expect(page.locator(".muted-channel[data-channel=news]")).not_to_be_checked()
    expect(page.locator("#quiet-start")).to_have_value("22:00")
    expect(page.locator("#quiet-end")).to_have_value("07:30")
    expect(page.locator("#quiet-zone")).to_have_value("Europe/Berlin")

    # Quiet hours off and nothing muted: cleared for the API too.
    page.locator("#quiet-on").click()
    page.locator(".muted-channel[data-channel=promo]").click()
    page.locator("#prefs-save").click()
    expect(page.locator("#quiet-start")).to_have_count(0)
    for _ in range(50):  # the save is asynchronous: wait for the API to have it
        prefs = _person(api_server, app, "bob")["preferences"]
        if prefs["quietHours"] is None:
            break
        page.wait_for_timeout(100)
    assert prefs == {"mutedChannels": [], "quietHours": None}


def test_export_downloads_the_persons_json(api_server, dashboard_url, context):
    app = _app_with_people(api_server)
    page = context.new_page()
    log_in(page, dashboard_url, app["email"], path=person_path(app["app"], ODD))
    expect(page.locator("#page-title")).to_have_text(ODD)
    with page.expect_download() as info:
        page.locator("#person-export").click()
    download = info.value
    assert download.suggested_filename.endswith(".json")
    document = json.loads(open(download.path(), encoding="utf-8").read())
    assert document["identifier"] == ODD
    assert [d["id"] for d in document["devices"]] == app["devices"][ODD]


def test_erase_with_typed_confirmation(api_server, dashboard_url, context):
    app = _app_with_people(api_server)
    page = context.new_page()
    log_in(page, dashboard_url, app["email"], path=person_path(app["app"], "ada@example.com"))
    expect(page.locator("#page-title")).to_have_text("ada@example.com")
    page.locator("#person-erase").click()
    confirm = page.locator("#erase-confirm")
    expect(confirm).to_be_disabled()
    page.locator("#erase-confirm-typed").fill("ada@example.co")
    expect(confirm).to_be_disabled()
    assert _person(api_server, app, "ada@example.com") is not None
    page.locator("#erase-confirm-typed").fill("ada@example.com")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page).to_have_url(re.compile(rf"/apps/{app['app']}/people/?$"))
    expect(page.locator(".person-row")).to_have_count(2)
    expect(page.locator("body")).not_to_contain_text("ada@example.com")
    assert _person(api_server, app, "ada@example.com") is None


def test_send_to_people_and_devices(api_server, dashboard_url, context, shot):
    app = _app_with_people(api_server)
    page = context.new_page()
    log_in(page, dashboard_url, app["email"], path=f"/apps/{app['app']}/send")
    expect(page.locator("#send-channel")).to_be_visible()  # the channel flow is the default
    page.locator("#target-people").click()
    expect(page.locator("#send-identifiers")).to_be_visible()
    page.locator("#send-title").fill("For Ada")
    page.locator("#send-identifiers").fill("ada@example.com,\n" + "x" * 129)
    page.locator("#send-submit").click()
    expect(page.locator(".field-error")).to_contain_text("at most 128 characters")
    page.locator("#send-identifiers").fill("ada@example.com\nghost-user")
    shot(page, "desktop-send-people")
    page.locator("#send-submit").click()
    # An identifier that names no person of the app gets nothing, and the page says so.
    expect(page.get_by_text("named no person of this app")).to_contain_text("'ghost-user'")
    expect(page).to_have_url(re.compile(r"/notifications/[^/]+/?$"))
    expect(page.locator("#page-title")).to_have_text("For Ada")
    expect(page.locator(".delivery-status")).to_have_count(2)
    sent = page.url.rstrip("/").split("/")[-1]
    reached = gql(api_server, DELIVERIES, {"n": sent}, token=app["token"])["deliveries"]["nodes"]
    assert sorted(d["device"]["id"] for d in reached) == sorted(app["devices"]["ada"])
    assert _person(api_server, app, "ada@example.com")["unreadCount"] == 1

    # From the person page: Send presets the person; the API's refusal lands on its field.
    page.goto(f"{dashboard_url}{person_path(app['app'], ODD)}")
    page.locator("#person-send").click()
    expect(page).to_have_url(re.compile(r"/send\?to=" + re.escape(quote(ODD, safe=""))))
    expect(page.locator("#send-identifiers")).to_have_value(ODD)
    page.locator("#target-devices").click()
    page.locator("#send-title").fill("To a device")
    page.locator("#send-device-ids").fill("999999999")
    page.locator("#send-submit").click()
    expect(page.locator(".field-error")).to_contain_text("Device not found")
    expect(page.locator("#send-error")).to_be_visible()
    page.locator("#send-device-ids").fill(app["devices"]["bob"][0])
    page.locator("#send-submit").click()
    expect(page.locator("#page-title")).to_have_text("To a device")
    expect(page.locator(".delivery-status")).to_have_count(1)


def test_another_users_person_is_not_found(api_server, dashboard_url, context):
    owner = _app_with_people(api_server)
    email = new_email("people-b")
    b_token = sign_up(api_server, email)
    page = context.new_page()
    log_in(page, dashboard_url, email, path=person_path(owner["app"], "ada@example.com"))
    expect(page.locator("#not-found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("ada@example.com")
    page.goto(f"{dashboard_url}/apps/{owner['app']}/people")
    expect(page.locator("#not-found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("ada@example.com")
    # A person the viewer's own app does not have: not found as well.
    mine, _ = make_app(api_server, b_token, "Mine")
    page.goto(f"{dashboard_url}{person_path(mine, 'ada@example.com')}")
    expect(page.locator("#not-found")).to_be_visible()
    page.goto(f"{dashboard_url}/apps/{mine}/people")
    expect(page.locator("#people-empty")).to_be_visible()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_people_pages_fit_and_are_captured(api_server, dashboard_url, browser, shot, size):
    app = _app_with_people(api_server)
    viewport = PHONE if size == "phone" else DESKTOP
    ctx = browser.new_context(
        viewport=viewport, extra_http_headers={"X-Forwarded-For": next_address()}
    )
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        base = f"/apps/{app['app']}"
        log_in(page, dashboard_url, app["email"], path=f"{base}/people")
        expect(page.locator(".person-row")).to_have_count(3)
        pages = {
            "people-list": (f"{base}/people", "People"),
            "person": (person_path(app["app"], "ada@example.com"), "ada@example.com"),
            "person-odd": (person_path(app["app"], ODD), ODD),
            "send-people": (f"{base}/send?to=bob", None),
        }
        too_wide = {}
        for name, (path, title) in pages.items():
            page.goto(f"{dashboard_url}{path}")
            # The page of this URL, not the previous page's state shown until this one has loaded
            # (clicking that one's quiet-hours switch raced the load of this one's preferences).
            if title:
                expect(page.locator("#page-title")).to_have_text(title)
            else:
                expect(page.locator("#page-title")).to_be_visible()
            expect(page.locator(".loading")).to_have_count(0)
            if name.startswith("person"):
                page.locator("#quiet-on").click()  # the quiet-hours fields must fit too
                expect(page.locator("#quiet-zone")).to_be_visible()
            page.wait_for_timeout(200)
            shot(page, f"{size}-{name}")
            if _overflow(page) > 0:
                too_wide[name] = _overflow(page)
        assert not too_wide, f"pages scroll sideways at {viewport['width']} px by: {too_wide}"
        if size == "phone":
            page.locator("#menu-toggle").click()
            page.locator("#menu-people").click()
            expect(page).to_have_url(re.compile(r"/people/?$"))
            expect(page.locator(".person-row")).to_have_count(3)
    finally:
        ctx.close()


def test_online_dot_follows_a_live_connection(api_server, dashboard_url, context):
    """A device of the person holding a live stream (graphql-transport-ws, its device key) makes
    the person online on both pages; closing it makes them offline again."""
    from websockets.sync.client import connect

    app = _app_with_people(api_server)
    token = f"ExponentPushToken[people-live-{uuid.uuid4().hex[:10]}]"
    registered = gql(
        api_server,
        "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t, identifier: "
        '"carol"}) { deviceKey } }',
        {"t": token},
        api_key=app["key"],
    )["registerDevice"]
    page = context.new_page()
    log_in(page, dashboard_url, app["email"], path=person_path(app["app"], "carol"))
    expect(page.locator("#page-title")).to_have_text("carol")
    expect(page.locator(".online-dot.is-online")).to_have_count(0)

    ws_url = api_server["url"].replace("http://", "ws://") + "/graphql"
    with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"deviceKey": registered["deviceKey"]}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({
            "id": "1",
            "type": "subscribe",
            "payload": {
                "query": "subscription($t: String!) { notifications(deviceToken: $t) { id } }",
                "variables": {"t": token},
            },
        }))
        for _ in range(50):  # the stream counts once the server has opened it
            if gql(api_server, "query($a: ID!) { person(appId: $a, identifier: \"carol\") { online } }",
                   {"a": app["app"]}, token=app["token"])["person"]["online"]:
                break
            page.wait_for_timeout(100)
        page.reload()
        expect(page.locator("#page-title")).to_have_text("carol")
        expect(page.locator(".online-dot.is-online")).to_have_count(1)
        page.goto(f"{dashboard_url}/apps/{app['app']}/people")
        carol = page.locator(".person-row").filter(has_text="carol")
        expect(carol.locator(".online-dot.is-online")).to_have_count(1)
        expect(page.locator(".online-dot.is-online")).to_have_count(1)  # ada, bob: offline
    for _ in range(50):
        if not gql(api_server, "query($a: ID!) { person(appId: $a, identifier: \"carol\") { online } }",
                   {"a": app["app"]}, token=app["token"])["person"]["online"]:
            break
        page.wait_for_timeout(100)
    page.reload()
    expect(page.locator(".person-row")).to_have_count(4)
    expect(page.locator(".online-dot.is-online")).to_have_count(0)
