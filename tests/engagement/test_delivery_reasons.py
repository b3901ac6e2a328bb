"""Notification.deliveryReasons: a notification's HELD and SKIPPED deliveries counted by reason
(the dashboard's labelled counts), for the app's owner or key only."""

from __future__ import annotations

from tests.delivery.helpers import send, setup_channel, wait_deliveries
from tests.engagement.test_preferences import SET, around_now
from tests.people.support import device_of
from tests.support import factories as f

REASONS = "query($n: ID!, $t: String) { notification(id: $n, deviceToken: $t) { deliveryReasons { status reason count } } }"


async def test_held_and_skipped_deliveries_by_reason(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=0)
    muted, quiet, plain = [await device_of(api, app, who) for who in ("ann", "bob", "cy")]
    for device in (muted, quiet, plain):
        await f.subscribe(api, device, channel)
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"mutedChannelIds": [channel["id"]]}}, api_key=app.api_key)
    await api.ok(SET, {"a": app.id, "p": "bob", "i": {"quietHours": around_now()}}, api_key=app.api_key)
    sent = await send(api, app, channelId=channel["id"], title="hello")
    await wait_deliveries(sent["id"], "SKIPPED", "HELD", "SENT", "DELIVERED", count=3)
    for auth in ({"api_key": app.api_key}, {"token": app.owner.token}):
        data = await api.ok(REASONS, {"n": sent["id"]}, **auth)
        assert data["notification"]["deliveryReasons"] == [
            {"status": "HELD", "reason": "QuietHours", "count": 1},
            {"status": "SKIPPED", "reason": "Muted", "count": 1},
        ]
    # A device that got it sees the notification, never the app's ledger.
    error = await api.error(REASONS, {"n": sent["id"], "t": plain["token"]}, device_key=plain["key"])
    assert error["extensions"]["code"] == "FORBIDDEN"
    other = await f.make_app(api)
    error = await api.error(REASONS, {"n": sent["id"]}, api_key=other.api_key)
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_a_notification_sent_to_all_has_no_reasons(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="hi")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    data = await api.ok(REASONS, {"n": sent["id"]}, api_key=app.api_key)
    assert data["notification"]["deliveryReasons"] == []
