"""The person page's "Recent notifications" card (Person.notifications): what reached the person,
newest first, with status, read/unread and the outcome on each of their devices, a link to each
notification's page, "Show more" paging; nothing sent to someone else; and the card fits at
1440x900 and 390x844 (screenshots of both)."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import httpx
import pytest

from dashboard.pages.person_recent import RECENT_PAGE, recent_rows
from dashboard.people_forms import person_path
from tests.dashboard.helpers import expect, gql, log_in, make_app, new_email, next_address, sign_up

REGISTER = (
    "mutation($t: String!, $i: String) { registerDevice(input: {platform: EXPO, token: $t, identifier: $i})"
    " { device { id } deviceKey } }"
)
SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }"
MARK = "mutation($t: String!, $n: [ID!]!) { markRead(deviceToken: $t, notificationIds: $n) }"
SETTLED = (
    "query($a: ID!, $p: String!) { person(appId: $a, identifier: $p) { notifications(first: 50) { nodes {"
    " deliveryCounts { pending } } } } }"
)


def _device(api: dict, key: str, identifier: str) -> dict:
    token = f"ExponentPushToken[recent-{uuid.uuid4().hex[:12]}]"
    found = gql(api, REGISTER, {"t": token, "i": identifier}, api_key=key)["registerDevice"]
    return {"id": found["device"]["id"], "key": found["deviceKey"], "token": token}


def _send(api: dict, key: str, **fields) -> str:
    """A send, waiting out the app's send rate (BOOPER_APP_RATE) when the API asks to."""
    for _ in range(20):
        r = httpx.post(api["graphql"], json={"query": SEND, "variables": {"i": fields}},
                       headers={"X-Api-Key": key}, timeout=15)
        body = r.json()
        errors = body.get("errors") or []
        if errors and errors[0]["extensions"]["code"] == "RATE_LIMITED":
            time.sleep(float(errors[0]["extensions"].get("retryAfter") or 1))
            continue
        assert not errors, errors
        return body["data"]["sendNotification"]["id"]
    raise AssertionError("the app's send rate never let the send through")


def _history(api: dict) -> dict:
    """ada (two devices) reached by RECENT_PAGE + 2 direct sends (the newest scheduled, one read
    on her phone), bob by one of his own."""
    email = new_email("recent")
    token = sign_up(api, email)
    app_id, key = make_app(api, token, "Recent Place")
    phone, tablet = _device(api, key, "ada"), _device(api, key, "ada")
    _device(api, key, "bob")
    bobs = _send(api, key, identifiers=["bob"], title="for bob only")
    sent = [_send(api, key, identifiers=["ada"], title=f"hello ada {i}") for i in range(RECENT_PAGE + 1)]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    sent.append(_send(api, key, identifiers=["ada"], title="see you later", sendAt=later))
    gql(api, MARK, {"t": phone["token"], "n": [sent[0]]}, device_key=phone["key"])
    for _ in range(100):  # every push has had its outcome from the Expo sandbox
        nodes = gql(api, SETTLED, {"a": app_id, "p": "ada"}, token=token)["person"]["notifications"]["nodes"]
        if all(n["deliveryCounts"]["pending"] == 0 for n in nodes):
            break
        time.sleep(0.1)
    return {"email": email, "token": token, "app": app_id, "sent": sent, "bobs": bobs,
            "devices": {phone["id"], tablet["id"]}}


@pytest.mark.browser
def test_recent_notifications_with_outcomes_paging_and_links(api_server, dashboard_url, context, shot):
    h = _history(api_server)
    page = context.new_page()
    log_in(page, dashboard_url, h["email"], path=person_path(h["app"], "ada"))
    expect(page.locator("#page-title")).to_have_text("ada")
    items = page.locator(".recent-notification")
    expect(items).to_have_count(RECENT_PAGE)
    # Newest first: the scheduled one, not pushed yet, then the sends with an outcome per device.
    expect(items.nth(0).locator(".recent-link")).to_have_text("see you later")
    expect(items.nth(0).locator(".recent-status")).to_have_text("SCHEDULED")
    expect(items.nth(0).locator(".recent-delivery")).to_have_count(0)
    expect(items.nth(0)).to_contain_text("No push yet")
    expect(items.nth(1).locator(".recent-link")).to_have_text(f"hello ada {RECENT_PAGE}")
    expect(items.nth(1).locator(".recent-delivery")).to_have_count(2)
    expect(items.nth(1).locator(".recent-outcome").first).to_have_text(re.compile("SENT|DELIVERED"))
    expect(items.nth(1).locator(".recent-read")).to_have_text("unread")
    expect(items.nth(1).locator(".recent-time")).to_contain_text("UTC")
    expect(page.locator("#recent-notifications")).not_to_contain_text("for bob only")
    shot(page, "person-recent-desktop")

    # "Show more": the rest, appended; the oldest is the one read on her phone.
    page.locator("#recent-more").click()
    expect(items).to_have_count(RECENT_PAGE + 2)
    expect(page.locator("#recent-more")).to_have_count(0)
    oldest = items.nth(RECENT_PAGE + 1)
    expect(oldest.locator(".recent-link")).to_have_text("hello ada 0")
    expect(oldest.locator(".recent-read")).to_have_text("read")
    expect(page.locator(".recent-read").filter(has_text=re.compile("^read$"))).to_have_count(1)
    expect(page.locator("#recent-notifications")).not_to_contain_text("for bob only")

    # A title opens the notification's page.
    oldest.locator(".recent-link").click()
    expect(page).to_have_url(re.compile(rf"/apps/{h['app']}/notifications/{h['sent'][0]}/?$"))
    expect(page.locator("#page-title")).to_have_text("hello ada 0")


@pytest.mark.browser
def test_a_person_nothing_reached_says_so(api_server, dashboard_url, context):
    email = new_email("recent-none")
    token = sign_up(api_server, email)
    app_id, key = make_app(api_server, token, "Quiet Place")
    _device(api_server, key, "nobody-wrote")
    page = context.new_page()
    log_in(page, dashboard_url, email, path=person_path(app_id, "nobody-wrote"))
    expect(page.locator("#recent-empty")).to_be_visible()
    expect(page.locator(".recent-notification")).to_have_count(0)
    expect(page.locator("#recent-more")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_card_fits_and_is_captured(api_server, dashboard_url, browser, shot, size):
    h = _history(api_server)
    ctx = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, extra_http_headers={"X-Forwarded-For": next_address()}
    )
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        log_in(page, dashboard_url, h["email"], path=person_path(h["app"], "ada"))
        expect(page.locator(".recent-notification")).to_have_count(RECENT_PAGE)
        card = page.locator("#recent-notifications")
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size[0]
        overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the person page scrolls sideways by {overflow} px at {size[0]} px"
        shot(page, f"person-recent-{size[0]}x{size[1]}")
    finally:
        ctx.close()


def test_rows_name_each_devices_outcome_and_the_devices_not_shown():
    """The flat rows the card renders: a reason in words, an error where there is no reason, and
    how many of the person's deliveries the page does not list."""
    node = {
        "notification": {"id": "7", "title": "", "body": "b" * 80, "status": "COMPLETED",
                         "createdAt": "2026-11-30T04:00:00+00:00"},
        "read": True,
        "deliveryCounts": {"delivered": 1, "skipped": 1, "failed": 1, "pending": 4},
        "deliveries": [
            {"status": "SKIPPED", "reason": "ReadElsewhere", "device": {"id": "1", "platform": "EXPO",
                                                                        "tokenHint": "abc123"}},
            {"status": "FAILED", "reason": None, "error": "DeviceNotRegistered",
             "device": {"id": "2", "platform": "WEB", "tokenHint": None}},
        ],
    }
    rows, outcomes = recent_rows([node])
    assert rows == [{
        "id": "7", "title": "b" * 60, "created": "2026-11-30 04:00:00 UTC",
        "ago": rows[0]["ago"], "status": "COMPLETED", "read": "read", "more": "+5 more devices", "none": "",
    }]
    assert outcomes == {"7": [
        {"device": "EXPO …abc123", "status": "SKIPPED", "why": "read on another device"},
        {"device": "WEB 2", "status": "FAILED", "why": "DeviceNotRegistered"},
    ]}
