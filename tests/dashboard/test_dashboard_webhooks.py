"""Issue 11, the webhooks page: set the URL (a new secret, shown), reveal and rotate the
secret, and the event log with status and attempts (redelivering a FAILED event is tested at
the API: tests/api/test_webhook_admin.py)."""

from __future__ import annotations

import pytest

from tests.dashboard.helpers import expect, gql, log_in, make_app, new_email, sign_up

pytestmark = pytest.mark.browser


def test_webhooks_page(api_server, dashboard_url, context, shot):
    email = new_email("hooks")
    token = sign_up(api_server, email)
    app_id, key = make_app(api_server, token, "Hook App")
    gql(
        api_server,
        'mutation($a: ID!) { createChannel(appId: $a, name: "news", visibility: PUBLIC) { id } }',
        {"a": app_id},
        token=token,
    )
    page = context.new_page()
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/webhooks")
    expect(page.locator("#page-title")).to_have_text("Webhooks")
    expect(page.get_by_text("No events yet")).to_be_visible()

    page.locator("#webhook-url").fill("not a url")
    page.locator("#save-webhook").click()
    expect(page.locator(".field-error")).to_contain_text("https://")
    page.locator("#webhook-url").fill(f"{api_server['sandbox']}/webhooks/dash")
    page.locator("#save-webhook").click()
    first = page.locator("#webhook-secret")
    expect(first).to_contain_text("whsec_")
    first_secret = first.inner_text()

    # The secret is gone after navigation and comes back with Reveal.
    page.reload()
    expect(page.locator("#reveal-secret")).to_be_visible()
    expect(page.locator("#webhook-secret")).to_have_count(0)
    page.locator("#reveal-secret").click()
    expect(page.locator("#webhook-secret")).to_have_text(first_secret)

    page.locator("#rotate-secret").click()
    page.locator("#confirm-rotate").click()
    expect(page.locator("#webhook-secret")).not_to_have_text(first_secret)
    rotated = page.locator("#webhook-secret").inner_text()
    hook = gql(
        api_server, "query($a: ID!) { webhook(appId: $a) { secret } }", {"a": app_id}, token=token
    )
    assert hook["webhook"]["secret"] == rotated

    # An event reaches the log with its status and attempts.
    gql(
        api_server,
        "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }",
        {"i": {"channel": "news", "title": "hook me"}},
        api_key=key,
    )
    status = page.locator(".webhook-event-status")
    for _ in range(30):  # the log is read on Refresh (it is not live)
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
        if status.count() and status.first.inner_text() == "DELIVERED":
            break
    event = page.locator(".webhook-event").first
    expect(event).to_contain_text("notification.")
    expect(event.locator(".webhook-event-status")).to_have_text("DELIVERED")
    expect(event).to_contain_text("1")  # attempts
    shot(page, "webhooks")
