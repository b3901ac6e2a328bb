"""Issue 13's dashboard part, at 1440x900 and 390x844: channel settings (critical, digest window)
saved and shown after a reload and in the channel list; a notification's held and skipped
deliveries counted by reason (a muted device, one in quiet hours), on its page and in the list;
edit (prefilled, errors under the field, the inbox gets the new version) and retract (asked once
more, RETRACTED, the actions gone); the overview's open rate after markOpened."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from tests.dashboard.helpers import device, expect, gql, log_in, make_app, new_email, sign_up

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }"
PREFS = (
    "mutation($a: ID!, $t: String, $i: PreferencesInput!) {"
    " setPreferences(appId: $a, deviceToken: $t, input: $i) { quietHours { start } } }"
)
COUNTS = (
    "query($n: ID!) { notification(id: $n) { deliveryCounts"
    " { pending sent delivered held skipped opened } } }"
)
INBOX = "query($t: String) { notifications(deviceToken: $t) { nodes { id title status } } }"


def _app_with_channel(api, channel: str) -> tuple[str, str, str, str, str]:
    """A new account with an app and a public channel: (email, JWT, app id, API key, channel id)."""
    email = new_email("engage")
    token = sign_up(api, email)
    app_id, key = make_app(api, token, "Engage App")
    channel_id = gql(
        api,
        "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n, visibility: PUBLIC) { id } }",
        {"a": app_id, "n": channel},
        token=token,
    )["createChannel"]["id"]
    return email, token, app_id, key, channel_id


def _wait_counts(api, key, nid, ready) -> dict:
    for _ in range(80):
        counts = gql(api, COUNTS, {"n": nid}, api_key=key)["notification"]["deliveryCounts"]
        if ready(counts):
            return counts
        time.sleep(0.25)
    raise AssertionError(f"deliveries did not settle: {counts}")


def _around_now() -> dict:
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "timeZone": "UTC"}


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_channel_settings_are_saved_and_shown(api_server, dashboard_url, context, shot, width):
    email, token, app_id, _, channel_id = _app_with_channel(api_server, "chat")
    page = context.new_page()
    page.set_viewport_size(VIEWPORTS[width])
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/channels/{channel_id}")
    expect(page.locator("#page-title")).to_have_text("#chat")
    expect(page.locator("#channel-summary")).to_have_text("no digest")
    expect(page.get_by_text("bypass quiet hours, digests and per-person caps")).to_be_visible()

    # A window out of range is refused under the field, and nothing is saved.
    page.locator("#digest-seconds").fill("3")
    page.locator("#save-channel-settings").click()
    expect(page.locator(".field-error")).to_contain_text("Between 5 and 86,400")
    settings = "query($c: ID!) { channel(id: $c) { critical digestWindow } }"
    assert gql(api_server, settings, {"c": channel_id}, token=token)["channel"] == {
        "critical": False,
        "digestWindow": None,
    }

    page.locator("#channel-critical").click()
    page.locator("#digest-preset").click()
    page.get_by_role("option", name="5 min", exact=True).click()
    expect(page.locator("#digest-seconds")).to_have_value("300")
    page.locator("#save-channel-settings").click()
    expect(page.locator("#channel-summary")).to_have_text("critical, digest 5 min")
    assert gql(api_server, settings, {"c": channel_id}, token=token)["channel"] == {
        "critical": True,
        "digestWindow": 300,
    }
    page.reload()
    expect(page.locator("#channel-summary")).to_have_text("critical, digest 5 min")
    expect(page.locator("#channel-critical")).to_have_attribute("data-state", "checked")
    expect(page.locator("#digest-seconds")).to_have_value("300")
    shot(page, f"engagement-channel-settings-{width}")

    # A custom window, in seconds.
    page.locator("#digest-seconds").fill("90")
    page.locator("#save-channel-settings").click()
    expect(page.locator("#channel-summary")).to_have_text("critical, digest 90 s")

    page.goto(f"{dashboard_url}/apps/{app_id}/channels")
    expect(page.locator(".channel-critical")).to_have_text("critical")
    expect(page.locator(".channel-digest")).to_have_text("90 s")
    shot(page, f"engagement-channels-{width}")


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_held_and_skipped_reasons_edit_and_retract(api_server, dashboard_url, context, shot, width):
    email, token, app_id, key, channel_id = _app_with_channel(api_server, "news")
    muted, quiet, plain = (device(api_server, n, channel_id) for n in ("muted", "quiet", "plain"))
    # Devices of no person set their own preferences, with their keys.
    gql(api_server, PREFS, {"a": app_id, "t": muted["token"], "i": {"mutedChannelIds": [channel_id]}},
        device_key=muted["key"])
    gql(api_server, PREFS, {"a": app_id, "t": quiet["token"], "i": {"quietHours": _around_now()}},
        device_key=quiet["key"])
    nid = gql(api_server, SEND, {"i": {"channel": "news", "title": "Launch at 9", "body": "Be there.",
                                       "data": {"v": 1}}}, api_key=key)["sendNotification"]["id"]
    _wait_counts(api_server, key, nid, lambda c: c["held"] == 1 and c["skipped"] == 1
                 and c["sent"] + c["delivered"] == 1)

    page = context.new_page()
    page.set_viewport_size(VIEWPORTS[width])
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/notifications")
    row = page.locator(".delivery-counts").first
    expect(row.locator(".count-held")).to_have_text("1 held")
    expect(row.locator(".count-skipped")).to_have_text("1 skipped")
    shot(page, f"engagement-notifications-{width}")

    page.goto(f"{dashboard_url}/apps/{app_id}/notifications/{nid}")
    expect(page.locator("#page-title")).to_have_text("Launch at 9")
    expect(page.locator("#count-held")).to_contain_text("1")
    expect(page.locator("#count-skipped")).to_contain_text("1")
    reasons = page.locator("#delivery-reasons")
    expect(reasons).to_contain_text("1 held")
    expect(reasons).to_contain_text("quiet hours")
    expect(reasons).to_contain_text("QuietHours")
    expect(reasons).to_contain_text("1 skipped")
    expect(reasons).to_contain_text("channel muted")
    expect(reasons).to_contain_text("Muted")
    shot(page, f"engagement-notification-reasons-{width}")

    # Edit: the form is prefilled; bad data is refused under its field, nothing changes.
    page.locator("#edit-notification").click()
    expect(page.locator("#edit-title")).to_have_value("Launch at 9")
    expect(page.locator("#edit-body")).to_have_value("Be there.")
    expect(page.locator("#edit-data")).to_have_value(re.compile(r'"v": 1'))
    page.locator("#edit-data").fill("[1, 2]")
    page.locator("#save-edit").click()
    expect(page.locator(".field-error")).to_contain_text("Data must be a JSON object")
    shot(page, f"engagement-edit-{width}")
    page.locator("#edit-title").fill("Launch at 10")
    page.locator("#edit-data").fill('{"v": 2}')
    page.locator("#save-edit").click()
    expect(page.locator("#page-title")).to_have_text("Launch at 10")
    expect(page.locator("#edit-title")).to_have_count(0)
    inbox = gql(api_server, INBOX, {"t": plain["token"]}, device_key=plain["key"])
    assert [(n["id"], n["title"]) for n in inbox["notifications"]["nodes"]] == [(nid, "Launch at 10")]

    # Retract: asked once more, then RETRACTED, gone from the inbox, and no more actions.
    page.locator("#retract-notification").click()
    expect(page.get_by_text("It disappears from every inbox")).to_be_visible()
    page.locator("#confirm-retract").click()
    expect(page.locator("#notification-status")).to_have_text("RETRACTED")
    expect(page.locator("#edit-notification")).to_have_count(0)
    expect(page.locator("#retract-notification")).to_have_count(0)
    expect(page.locator("#delivery-reasons")).to_contain_text("Retracted")  # the held one stopped
    inbox = gql(api_server, INBOX, {"t": plain["token"]}, device_key=plain["key"])
    assert nid not in [n["id"] for n in inbox["notifications"]["nodes"]]
    page.reload()
    expect(page.locator("#notification-status")).to_have_text("RETRACTED")
    expect(page.locator("#retract-notification")).to_have_count(0)
    shot(page, f"engagement-retracted-{width}")


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_open_rate_on_the_overview(api_server, dashboard_url, context, shot, width):
    email, token, app_id, key, channel_id = _app_with_channel(api_server, "news")
    phones = [device(api_server, f"open{i}", channel_id) for i in range(2)]
    nid = gql(api_server, SEND, {"i": {"channel": "news", "title": "Open me"}}, api_key=key)[
        "sendNotification"
    ]["id"]
    _wait_counts(api_server, key, nid, lambda c: c["sent"] + c["delivered"] == 2)
    page = context.new_page()
    page.set_viewport_size(VIEWPORTS[width])
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}")
    expect(page.locator("#open-rate")).to_contain_text("0.0%")
    expect(page.locator("#open-rate")).to_contain_text("0 opened / 2 delivered")
    opened = "mutation($t: String!, $n: ID!) { markOpened(deviceToken: $t, notificationId: $n) }"
    assert gql(api_server, opened, {"t": phones[0]["token"], "n": nid}, device_key=phones[0]["key"])[
        "markOpened"
    ]
    page.reload()
    expect(page.locator("#open-rate")).to_contain_text("50.0%")
    expect(page.locator("#open-rate")).to_contain_text("1 opened / 2 delivered")
    shot(page, f"engagement-overview-{width}")
    page.goto(f"{dashboard_url}/apps/{app_id}/notifications/{nid}")
    expect(page.locator("#count-opened")).to_contain_text("1")
