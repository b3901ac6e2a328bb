"""Retention by plan with a controllable clock: archive leaves the inbox, delete removes rows."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import time_machine

from api.notifications.retention import apply_retention
from api.notifications.tables import Delivery, Notification
from tests.support import factories as f

INBOX = "query($t: String!) { notifications(deviceToken: $t) { nodes { id } } }"
OWNER = "query($a: ID!) { notifications(appId: $a) { nodes { id } } }"


async def _app_with_notification(api, sandbox, plan: str | None):
    app = await f.make_app(api, plan=plan)
    channel = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, channel)
    sent = await f.send(api, app, channel="news", title="old news")
    return app, device, sent


async def _ids(api, query, variables, **auth) -> list[str]:
    data = await api.ok(query, variables, **auth)
    return [n["id"] for n in data["notifications"]["nodes"]]


async def test_free_plan_archives_after_7_days_and_deletes_after_30(api, sandbox, settings, api_server):
    app, device, sent = await _app_with_notification(api, sandbox, None)
    await api_server.settle()
    assert await Delivery.count().where(Delivery.notification == int(sent["id"])) == 1
    now = dt.datetime.now(dt.UTC)

    with time_machine.travel(now + dt.timedelta(days=6), tick=False):
        result = await apply_retention(settings)
    assert result.archived == 0
    assert await _ids(api, INBOX, {"t": device["token"]}) == [sent["id"]]

    with time_machine.travel(now + dt.timedelta(days=8), tick=False):
        result = await apply_retention(settings)
    assert result.archived == 1
    assert await _ids(api, INBOX, {"t": device["token"]}) == []  # gone from the device's inbox
    assert await _ids(api, OWNER, {"a": app.id}, api_key=app.api_key) == [sent["id"]]  # the owner still sees it

    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        result = await apply_retention(settings)
    assert (result.deleted, result.deliveries_deleted) == (1, 1)
    assert await Notification.count() == 0
    assert await Delivery.count() == 0


async def test_pro_keeps_longer_and_business_keeps_forever(api, sandbox, settings, api_server):
    pro, _, pro_sent = await _app_with_notification(api, sandbox, "PRO")
    business, _, business_sent = await _app_with_notification(api, sandbox, "BUSINESS")
    await api_server.settle()
    now = dt.datetime.now(dt.UTC)
    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        result = await apply_retention(settings)
    assert result.archived == 1 and result.deleted == 0
    with time_machine.travel(now + dt.timedelta(days=101), tick=False):
        result = await apply_retention(settings)
    assert result.deleted == 1
    remaining = [r["id"] for r in await Notification.select(Notification.id)]
    assert remaining == [int(business_sent["id"])]
    with time_machine.travel(now + dt.timedelta(days=3650), tick=False):
        await apply_retention(settings)
    assert await Notification.count() == 1
    del pro, business, pro_sent


async def test_anonymous_sends_to_a_business_apps_public_channel_follow_free(api, sandbox, settings, api_server):
    """Anyone may send to an app's public channel without credentials; a BUSINESS app keeps its
    notifications for ever, so strangers could grow its history without end. Anonymous sends
    follow FREE's 7/30 days whatever the app's plan; the app's own stay."""
    business, device, own = await _app_with_notification(api, sandbox, "BUSINESS")
    anonymous = await f.send(api, None, channel="news", appId=business.id, title="from anyone")
    await api_server.settle()
    rows = {r["id"]: r["anonymous"] for r in await Notification.select(Notification.id, Notification.anonymous)}
    assert rows == {int(own["id"]): False, int(anonymous["id"]): True}
    now = dt.datetime.now(dt.UTC)
    with time_machine.travel(now + dt.timedelta(days=8), tick=False):
        result = await apply_retention(settings)
    assert result.archived == 1
    assert await _ids(api, INBOX, {"t": device["token"]}) == [own["id"]]
    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        result = await apply_retention(settings)
    assert (result.deleted, result.deliveries_deleted) == (1, 1)
    assert [r["id"] for r in await Notification.select(Notification.id)] == [int(own["id"])]


async def test_public_channels_nobody_uses_are_deleted_after_a_month(api, sandbox, settings, api_server):
    """Anyone's first send or subscribe to a new name makes a channel of the global namespace;
    names made once and never used again piled up for ever. One that no device follows and that
    holds no notification is deleted 30 days after it was made; a followed one, an app's
    channel, and one still holding a notification stay."""
    from api.channels.tables import Channel

    app = await f.make_app(api)
    own = await f.make_channel(api, app, name="idle-but-an-apps")
    device = await f.make_expo_device(api)
    for name in ("typo-once", "followed", "recent-send"):
        await api.ok("mutation($n: String!) { sendNotification(input: {channel: $n, title: \"hi\"}) { id } }",
                     {"n": name})
    await api.ok("mutation($t: String!) { subscribe(deviceToken: $t, name: \"followed\") { id } }",
                 {"t": device["token"]}, device_key=device["key"])
    await api_server.settle()
    now = dt.datetime.now(dt.UTC)
    with time_machine.travel(now + dt.timedelta(days=20), tick=False):
        await api.ok("mutation { sendNotification(input: {channel: \"recent-send\", title: \"again\"}) { id } }")
        await api_server.settle()
    with time_machine.travel(now + dt.timedelta(days=29), tick=False):
        assert (await apply_retention(settings)).public_channels_deleted == 0
    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        result = await apply_retention(settings)  # the first sends are deleted (FREE: 30 days)
    assert result.public_channels_deleted == 1
    names = sorted(r["name"] for r in await Channel.select(Channel.name))
    assert names == sorted(["followed", "recent-send", own["name"]])
    # The name is free again: the next send makes a new channel, with a new id.
    again = await api.ok("mutation { sendNotification(input: {channel: \"typo-once\", title: \"back\"}) { id } }")
    assert again["sendNotification"]["id"]
    assert await Channel.count().where(Channel.name == "typo-once") == 1


async def test_finished_webhook_events_and_used_access_codes_go_after_a_month(api, sandbox, settings):
    """Both were kept for ever. Pending events and live codes stay whatever their age."""
    from api.access_codes.tables import AccessCode
    from api.webhooks.tables import Webhook, WebhookEvent

    app = await f.make_app(api)
    await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    hook = (await Webhook.insert(Webhook(app=int(app.id), url="https://example.com/hook", secret="s"))
            .returning(Webhook.id))[0]["id"]
    now = dt.datetime.now(dt.UTC)
    for status in ("DELIVERED", "FAILED", "PENDING"):
        await WebhookEvent.insert(WebhookEvent(webhook=hook, event_type="delivery.delivered", payload={},
                                               status=status, created_at=now))
    device = await f.make_expo_device(api)
    redeemed = await f.access_code(api, app, ["vip"])
    await api.ok("mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
                 {"c": redeemed["code"], "t": device["token"]})
    await f.access_code(api, app, ["vip"])  # expires in 5 minutes, unredeemed
    with time_machine.travel(now + dt.timedelta(days=29), tick=False):
        result = await apply_retention(settings)
    assert (result.webhook_events_deleted, result.access_codes_deleted) == (0, 0)
    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        live = await f.access_code(api, app, ["vip"])  # made then, live then
        result = await apply_retention(settings)
    assert (result.webhook_events_deleted, result.access_codes_deleted) == (2, 2)
    left = await WebhookEvent.select(WebhookEvent.status).where(WebhookEvent.event_type == "delivery.delivered")
    assert [r["status"] for r in left] == ["PENDING"]  # (the redeem queued a pending event of its own too)
    (kept,) = await AccessCode.select(AccessCode.code_hint)
    assert live["code"].endswith(kept["code_hint"])


async def test_a_channel_held_by_a_subscribe_in_flight_is_not_deleted_under_it(api, settings, api_server):
    """The delete checked "no subscription" before a subscribe committed, then deleted the channel
    and, by the cascade, the subscription the API had just confirmed. On PostgreSQL the channel's
    row is now locked first, skipping one a writer holds, and checked again as it is deleted."""
    if not settings.is_postgres:
        pytest.skip("row locks: PostgreSQL (SQLite's write transaction runs one writer at a time)")
    import asyncpg

    from api.channels.tables import Channel

    await api.ok('mutation { sendNotification(input: {channel: "held", title: "once"}) { id } }')
    await api.ok('mutation { sendNotification(input: {channel: "idle", title: "once"}) { id } }')
    await api_server.settle()
    held = (await Channel.select(Channel.id).where(Channel.name == "held"))[0]["id"]
    device = await f.make_expo_device(api)
    now = dt.datetime.now(dt.UTC)
    # A subscribe in flight: its row written, not yet committed (it holds the channel's row
    # through the foreign key, as the real one does until it commits).
    conn = await asyncpg.connect(settings.database_url)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO channel_subscriptions (channel, device, created_at) VALUES ($1, $2, now())",
                           held, int(device["id"]))
        with time_machine.travel(now + dt.timedelta(days=31), tick=False):
            # (Before, the delete waited on the subscribe's lock, then deleted the channel under it.)
            result = await asyncio.wait_for(apply_retention(settings), 10)
        await tx.commit()
    finally:
        await conn.close()
    assert result.public_channels_deleted == 1  # "idle" went; "held" was skipped, and is followed
    assert sorted(r["name"] for r in await Channel.select(Channel.name)) == ["held"]
