"""rotateWebhookSecret and redeliverWebhookEvent: the app's owner runs its webhook from the
dashboard (issue 11)."""

from __future__ import annotations

import datetime as dt

from api.webhooks.tables import Webhook, WebhookEvent
from tests.support import factories as f

SET = "mutation($a: ID!) { setWebhook(appId: $a, url: \"https://hooks.example.com/booper\") { id secret } }"
ROTATE = "mutation($a: ID!) { rotateWebhookSecret(appId: $a) { url secret } }"
READ = "query($a: ID!) { webhook(appId: $a) { secret events { id status attempts } } }"
REDELIVER = "mutation($e: ID!) { redeliverWebhookEvent(id: $e) { id status attempts } }"


async def _event(webhook_id: str, status: str) -> str:
    now = dt.datetime.now(dt.UTC)
    row = (await WebhookEvent.insert(WebhookEvent(
        webhook=int(webhook_id), event_type="delivery.failed", payload="{}", status=status,
        attempts=8, last_error="HTTP 500", created_at=now,
    )).returning(WebhookEvent.id))[0]
    return f"evt_{row['id']}"


async def test_rotating_the_secret_keeps_the_url_and_replaces_the_secret(api):
    app = await f.make_app(api)
    first = (await api.ok(SET, {"a": app.id}, token=app.owner.token))["setWebhook"]["secret"]
    rotated = (await api.ok(ROTATE, {"a": app.id}, token=app.owner.token))["rotateWebhookSecret"]
    assert rotated["url"] == "https://hooks.example.com/booper"
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != first
    read = await api.ok(READ, {"a": app.id}, token=app.owner.token)
    assert read["webhook"]["secret"] == rotated["secret"]


async def test_rotating_is_the_owners_alone_and_needs_a_webhook(api):
    app = await f.make_app(api)
    stranger = await f.make_user(api)
    assert await api.code(ROTATE, {"a": app.id}, token=app.owner.token) == "NOT_FOUND"  # no webhook yet
    await api.ok(SET, {"a": app.id}, token=app.owner.token)
    before = await Webhook.select(Webhook.secret).first()
    assert await api.code(ROTATE, {"a": app.id}, token=stranger.token) == "NOT_FOUND"
    assert await api.code(ROTATE, {"a": app.id}, api_key=app.api_key) == "FORBIDDEN"
    assert await api.code(ROTATE, {"a": app.id}) == "UNAUTHENTICATED"
    assert await Webhook.select(Webhook.secret).first() == before


async def test_a_failed_event_is_redelivered_with_fresh_attempts(api):
    app = await f.make_app(api)
    hook = (await api.ok(SET, {"a": app.id}, token=app.owner.token))["setWebhook"]["id"]
    failed = await _event(hook, "FAILED")
    data = await api.ok(REDELIVER, {"e": failed}, token=app.owner.token)
    assert data["redeliverWebhookEvent"] == {"id": failed, "status": "PENDING", "attempts": 0}


async def test_only_the_owners_failed_events_are_redelivered(api):
    app = await f.make_app(api)
    stranger = await f.make_app(api)
    hook = (await api.ok(SET, {"a": app.id}, token=app.owner.token))["setWebhook"]["id"]
    await api.ok(SET, {"a": stranger.id}, token=stranger.owner.token)  # has a webhook of its own
    failed, delivered = await _event(hook, "FAILED"), await _event(hook, "DELIVERED")
    assert await api.code(REDELIVER, {"e": delivered}, token=app.owner.token) == "BAD_USER_INPUT"
    assert await api.code(REDELIVER, {"e": failed}, token=stranger.owner.token) == "NOT_FOUND"
    assert await api.code(REDELIVER, {"e": failed}, api_key=app.api_key) == "FORBIDDEN"
    assert await api.code(REDELIVER, {"e": "evt_x"}, token=app.owner.token) == "BAD_USER_INPUT"
    assert await api.code(REDELIVER, {"e": "evt_999999"}, token=app.owner.token) == "NOT_FOUND"
    statuses = {r["status"] for r in await WebhookEvent.select(WebhookEvent.status)}
    assert statuses == {"FAILED", "DELIVERED"}  # nothing written by the refusals
