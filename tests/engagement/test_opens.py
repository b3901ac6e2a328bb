"""markOpened: the device reports an open of a notification pushed to it; recorded once,
counted (DeliveryCounts.opened, the app's open rate and hourly stats), webhooked once."""

from __future__ import annotations

import asyncio

from api.notifications.tables import Delivery
from api.webhooks.tables import WebhookEvent
from tests.delivery.helpers import eventually_sync, send, setup_channel, wait_deliveries
from tests.support import factories as f

OPEN = "mutation($t: String!, $n: ID!) { markOpened(deviceToken: $t, notificationId: $n) }"
COUNTS = "query($n: ID!) { notification(id: $n) { deliveryCounts { sent delivered opened } } }"
USAGE = ("query($a: ID!) { app(id: $a) { usage { openRate deliveries { opened sent delivered } }"
         " deliveryStats(hours: 2) { opened } } }")


def _clicks(sandbox) -> list[dict]:
    return [m for m in sandbox.messages(to="opens") if m["json"]["type"] == "notification.clicked"]


async def _hooked_app(api, sandbox, settings):
    settings.webhook_allow_private = True
    app = await f.make_app(api)
    await api.ok("mutation($a: ID!, $u: String!) { setWebhook(appId: $a, url: $u) { id } }",
                 {"a": app.id, "u": f"{sandbox.base_url}/webhooks/opens"}, token=app.owner.token)
    return app


async def test_an_open_is_recorded_counted_and_webhooked_once(api, sandbox, settings):
    app = await _hooked_app(api, sandbox, settings)
    app, channel, (first, second) = await setup_channel(api, expo=2, app=app)
    sent = await send(api, app, channelId=channel["id"], title="hi")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    usage = (await api.ok(USAGE, {"a": app.id}, api_key=app.api_key))["app"]
    assert usage["usage"]["openRate"] == 0.0
    assert usage["usage"]["deliveries"]["opened"] == 0

    # Reported twice, and twice at the same moment: one open, one webhook.
    assert (await api.ok(OPEN, {"t": first["token"], "n": sent["id"]}))["markOpened"] is True
    again = await asyncio.gather(*(api.ok(OPEN, {"t": first["token"], "n": sent["id"]}) for _ in range(3)))
    assert [a["markOpened"] for a in again] == [False, False, False]

    rows = {r["device"]: r for r in await Delivery.select().where(Delivery.notification == int(sent["id"]))}
    assert rows[int(first["id"])]["opened_at"] is not None
    assert rows[int(second["id"])]["opened_at"] is None
    counts = (await api.ok(COUNTS, {"n": sent["id"]}, api_key=app.api_key))["notification"]["deliveryCounts"]
    assert counts["opened"] == 1
    usage = (await api.ok(USAGE, {"a": app.id}, api_key=app.api_key))["app"]
    assert usage["usage"]["deliveries"]["opened"] == 1
    assert usage["usage"]["openRate"] == 0.5
    assert [b["opened"] for b in usage["deliveryStats"]] in ([0, 1], [1, 0])  # this hour (or the last, at :00)
    ledger = await api.ok("query($n: ID!) { deliveries(notificationId: $n) { nodes { device { id } openedAt } } }",
                          {"n": sent["id"]}, api_key=app.api_key)
    opened = {n["device"]["id"]: n["openedAt"] for n in ledger["deliveries"]["nodes"]}
    assert opened[first["id"]] is not None and opened[second["id"]] is None

    (hook,) = await eventually_sync(lambda: _clicks(sandbox), what="notification.clicked")
    assert hook["json"]["data"]["notificationId"] == sent["id"]
    assert hook["json"]["data"]["deviceId"] == first["id"]
    await asyncio.sleep(0.3)  # a second one would have been sent by now
    assert len(_clicks(sandbox)) == 1
    assert await WebhookEvent.count().where(WebhookEvent.event_type == "notification.clicked") == 1


async def test_only_a_notification_pushed_to_that_device_can_be_opened(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    stranger = await f.make_expo_device(api)  # registered, not subscribed: nothing was pushed to it
    sent = await send(api, app, channelId=channel["id"], title="hi")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    for token, nid in ((stranger["token"], sent["id"]), (device["token"], str(int(sent["id"]) + 1000))):
        error = await api.error(OPEN, {"t": token, "n": nid})
        assert error["extensions"]["code"] == "NOT_FOUND"
    error = await api.error(OPEN, {"t": device["token"], "n": "not-an-id"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await Delivery.count().where(Delivery.opened_at.is_not_null()) == 0


async def test_a_failed_push_cannot_be_opened(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sandbox.faults({"provider": "expo", "match": device["token"], "fault": "DeviceNotRegistered"})
    sent = await send(api, app, channelId=channel["id"], title="hi")
    await wait_deliveries(sent["id"], "FAILED", count=1)
    # The device key still proves the device (it is inactive now, not unregistered).
    error = await api.error(OPEN, {"t": device["token"], "n": sent["id"]})
    assert error["extensions"]["code"] == "NOT_FOUND"
