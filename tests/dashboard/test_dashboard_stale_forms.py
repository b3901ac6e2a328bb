"""A form saves only what this visit of its page loaded. Coming back to a person's page (or a
channel's), the form first shows what it showed when left, of that person or of the last one
visited, and the API may have changed the values since; the page's load fills it a moment later.
LatePageLoads holds that load back, so a Save reaches the server first every time."""

from __future__ import annotations

import uuid

import pytest

from dashboard.people_forms import person_path
from tests.dashboard.helpers import LatePageLoads, expect, gql, log_in, make_app, new_email, sign_up

pytestmark = pytest.mark.browser

STILL_LOADING = "This page is still loading; try again."  # what a click too early is told
CHANNEL = (
    "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n, visibility: PUBLIC)"
    " { id } }"
)
REGISTER = (
    "mutation($t: String!, $i: String) { registerDevice(input: {platform: EXPO, token: $t,"
    " identifier: $i}) { device { id } } }"
)
SET_PREFS = (
    "mutation($a: ID!, $i: String!, $p: PreferencesInput!) {"
    " setPreferences(appId: $a, identifier: $i, input: $p) { quietHours { start } } }"
)
PREFS = (
    "query($a: ID!, $i: String!) { person(appId: $a, identifier: $i) { preferences {"
    " mutedChannels { name } quietHours { start end timeZone } } } }"
)
UPDATE_CHANNEL = (
    "mutation($c: ID!, $critical: Boolean, $w: Int) {"
    " updateChannel(id: $c, critical: $critical, digestWindow: $w) { id } }"
)
SETTINGS = "query($c: ID!) { channel(id: $c) { critical digestWindow } }"


def _quiet(start: str, end: str) -> dict:
    return {"start": start, "end": end, "timeZone": "UTC"}


def test_a_persons_form_from_an_earlier_visit_is_not_saved(api_server, dashboard_url, context):
    email = new_email("stale-prefs")
    token = sign_up(api_server, email)
    app_id, key = make_app(api_server, token, "Prefs App")
    news = gql(api_server, CHANNEL, {"a": app_id, "n": "news"}, token=token)["createChannel"]["id"]
    hours = {"ann": _quiet("22:00", "07:00"), "bob": _quiet("09:00", "17:00")}
    for who, quiet in hours.items():
        token_of_device = f"ExponentPushToken[prefs-{uuid.uuid4().hex[:12]}]"
        gql(api_server, REGISTER, {"t": token_of_device, "i": who}, api_key=key)
        gql(api_server, SET_PREFS, {"a": app_id, "i": who, "p": {"quietHours": quiet}}, token=token)

    def prefs(who: str) -> dict:
        variables = {"a": app_id, "i": who}
        return gql(api_server, PREFS, variables, token=token)["person"]["preferences"]

    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email, path=person_path(app_id, "ann"))
    expect(page.locator("#quiet-start")).to_have_value("22:00")
    page.locator("#nav-people").click()
    expect(page.locator(".person-link")).to_have_count(2)

    # Ann's hours change through the API while the dashboard is on another page. Back on her
    # page, the form shows them as they were when it was left, until its load has run.
    changed = {"mutedChannelIds": [news], "quietHours": _quiet("23:00", "06:00")}
    gql(api_server, SET_PREFS, {"a": app_id, "i": "ann", "p": changed}, token=token)
    loads.holding = True
    page.locator(".person-link", has_text="ann").click()
    expect(page.locator("#quiet-start")).to_have_value("22:00")  # as left
    page.locator("#prefs-save").click()
    expect(page.get_by_text(STILL_LOADING)).to_be_visible()
    assert loads.release() >= 1
    expect(page.locator("#quiet-start")).to_have_value("23:00")
    expect(page.locator(".muted-channel[data-channel=news]")).to_be_checked()
    assert prefs("ann") == {"mutedChannels": [{"name": "news"}], "quietHours": _quiet("23:00", "06:00")}

    # Bob's page, then ann's again: bob's hours are shown until its load has run.
    page.locator("#nav-people").click()
    page.locator(".person-link", has_text="bob").click()
    expect(page.locator("#quiet-start")).to_have_value("09:00")
    loads.holding = True
    page.locator("#nav-people").click()
    page.locator(".person-link", has_text="ann").click()
    expect(page.locator("#quiet-start")).to_have_value("09:00")
    expect(page.get_by_text(STILL_LOADING)).to_have_count(0)  # the first refusal's is gone
    page.locator("#prefs-save").click()
    expect(page.get_by_text(STILL_LOADING)).to_be_visible()
    assert loads.release() >= 1
    expect(page.locator("#page-title")).to_have_text("ann")
    expect(page.locator("#quiet-start")).to_have_value("23:00")
    assert prefs("ann") == {"mutedChannels": [{"name": "news"}], "quietHours": _quiet("23:00", "06:00")}
    assert prefs("bob") == {"mutedChannels": [], "quietHours": _quiet("09:00", "17:00")}

    # Saved after the load: what the form shows now (once the toast over the button is gone: it
    # stays while the pointer is on it).
    page.mouse.move(0, 0)
    expect(page.get_by_text(STILL_LOADING)).to_have_count(0)
    page.locator("#quiet-start").fill("21:00")
    page.locator("#prefs-save").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    assert prefs("ann")["quietHours"] == _quiet("21:00", "06:00")


def test_a_channels_settings_from_an_earlier_visit_are_not_saved(
    api_server, dashboard_url, context
):
    email = new_email("stale-channel")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Channel App")
    alarms = gql(api_server, CHANNEL, {"a": app_id, "n": "alarms"}, token=token)["createChannel"]["id"]
    gql(api_server, UPDATE_CHANNEL, {"c": alarms, "critical": True, "w": 300}, token=token)
    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/channels/{alarms}")
    expect(page.locator("#channel-summary")).to_have_text("critical, digest 5 min")
    page.locator("#nav-channels").click()
    expect(page.locator(".channel-link")).to_have_count(1)

    # Changed through the API meanwhile; the page come back to shows the settings as left.
    gql(api_server, UPDATE_CHANNEL, {"c": alarms, "critical": False, "w": 600}, token=token)
    loads.holding = True
    page.locator(".channel-link", has_text="alarms").click()
    expect(page.locator("#channel-summary")).to_have_text("critical, digest 5 min")
    page.locator("#save-channel-settings").click()
    expect(page.get_by_text(STILL_LOADING)).to_be_visible()
    assert loads.release() >= 1
    expect(page.locator("#channel-summary")).to_have_text("digest 10 min")
    settings = gql(api_server, SETTINGS, {"c": alarms}, token=token)["channel"]
    assert settings == {"critical": False, "digestWindow": 600}


IDENTIFY = "mutation($d: ID!, $i: String) { identifyDevice(deviceId: $d, identifier: $i) { id } }"
DEVICES_OF = "query($a: ID!, $i: String!) { person(appId: $a, identifier: $i) { devices { id } } }"


def test_a_device_listed_on_an_earlier_visit_is_not_unlinked(api_server, dashboard_url, context):
    """Unlinking takes a device from whoever it belongs to now (identifyDevice with null): a
    device still shown from the last visit of ann's page, which has moved to bob since, must not
    be taken from bob."""
    email = new_email("stale-unlink")
    token = sign_up(api_server, email)
    app_id, key = make_app(api_server, token, "Unlink App")
    devices = []
    for who in ("ann", "bob"):
        token_of_device = f"ExponentPushToken[unlink-{uuid.uuid4().hex[:12]}]"
        registered = gql(api_server, REGISTER, {"t": token_of_device, "i": who}, api_key=key)
        devices.append(registered["registerDevice"]["device"]["id"])
    moving = devices[0]

    def devices_of(who: str) -> list[str]:
        found = gql(api_server, DEVICES_OF, {"a": app_id, "i": who}, token=token)["person"]
        return sorted(d["id"] for d in found["devices"])

    page = context.new_page()
    loads = LatePageLoads(page)
    log_in(page, dashboard_url, email, path=person_path(app_id, "ann"))
    expect(page.locator(".unlink-device")).to_have_count(1)
    page.locator("#nav-people").click()
    expect(page.locator(".person-link")).to_have_count(2)

    gql(api_server, IDENTIFY, {"d": moving, "i": "bob"}, api_key=key)  # ann's device is bob's now
    loads.holding = True
    page.locator(".person-link", has_text="ann").click()
    expect(page.locator(".unlink-device")).to_have_count(1)  # as left
    page.locator(".unlink-device").click()
    expect(page.get_by_text(STILL_LOADING)).to_be_visible()
    assert loads.release() >= 1
    expect(page.locator(".unlink-device")).to_have_count(0)  # ann has none now
    assert devices_of("bob") == sorted(devices)
