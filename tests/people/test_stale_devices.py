"""The retention job deactivates devices not seen for BOOPER_DEVICE_STALE_DAYS; seen = registered,
refreshed, or a call as the device (written at most once an hour). The clock is passed in."""

from __future__ import annotations

import asyncio
import datetime as dt

from api.devices.tables import Device
from api.notifications.retention import apply_retention
from tests.api.test_trust import DEVICE_STREAM, ended_with
from tests.delivery.helpers import device_row, send, wait_status
from tests.support import factories as f
from tests.support.graphql import socket

INBOX = "query($t: String) { notifications(deviceToken: $t) { nodes { id } } }"


async def _set_seen(device: dict, when: dt.datetime | None) -> None:
    await Device.update({Device.last_seen_at: when}).where(Device.id == int(device["id"]))


async def test_devices_not_seen_for_the_stale_days_are_deactivated(api, sandbox, settings):
    settings.device_stale_days = 90
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    fresh, stale = await f.make_expo_device(api), await f.make_expo_device(api)
    for device in (fresh, stale):
        await f.subscribe(api, device, channel)
    now = dt.datetime.now(dt.UTC)
    await _set_seen(stale, now - dt.timedelta(days=91))
    await _set_seen(fresh, now - dt.timedelta(days=89))
    result = await apply_retention(settings, now=now)
    assert result.devices_deactivated == 1
    assert ((await device_row(stale["id"]))["active"], (await device_row(stale["id"]))["inactive_reason"]) == (
        False, "Stale"
    )
    assert (await device_row(fresh["id"]))["active"] is True
    # It is sent nothing any more; registering it again (its key) brings it back.
    sent = await send(api, app, channelId=channel["id"], title="hi")
    await wait_status(sent["id"], "SENT", "COMPLETED")
    assert sandbox.messages(to=stale["token"]) == [] and len(sandbox.messages(to=fresh["token"])) == 1
    await api.ok("mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { deviceKey } }",
                 {"t": stale["token"]})
    assert (await device_row(stale["id"]))["active"] is True
    # Later runs leave it alone until it is stale again.
    assert (await apply_retention(settings, now=now)).devices_deactivated == 0
    later = now + dt.timedelta(days=91)
    assert (await apply_retention(settings, now=later)).devices_deactivated == 2


async def test_the_stale_days_are_configurable(api, settings):
    device = await f.make_expo_device(api)
    now = dt.datetime.now(dt.UTC)
    settings.device_stale_days = 10
    assert (await apply_retention(settings, now=now + dt.timedelta(days=9))).devices_deactivated == 0
    assert (await apply_retention(settings, now=now + dt.timedelta(days=11))).devices_deactivated == 1
    assert (await device_row(device["id"]))["active"] is False


async def test_a_device_call_counts_as_seen_at_most_once_an_hour(api):
    device = await f.make_expo_device(api)
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    await _set_seen(device, two_hours_ago)
    await api.ok(INBOX, {"t": device["token"]})
    seen = (await device_row(device["id"]))["last_seen_at"]
    assert seen > two_hours_ago + dt.timedelta(hours=1)
    ten_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    await _set_seen(device, ten_minutes_ago)
    await api.ok(INBOX, {"t": device["token"]})
    assert (await device_row(device["id"]))["last_seen_at"] == ten_minutes_ago  # no write within the hour
    # A call without the device's key is not the device: it does not count.
    await _set_seen(device, two_hours_ago)
    await api.raw(INBOX, {"t": device["token"]}, device_key=None)
    assert (await device_row(device["id"]))["last_seen_at"] == two_hours_ago


async def test_a_stale_devices_open_stream_ends_when_it_is_deactivated(api, settings):
    """Deactivated for staleness while holding a live stream (a device asleep with a socket the
    network kept open): the stream ends then, not at its next periodic check."""
    settings.device_stale_days = 90
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, channel)
    async with socket(api.url, {"deviceKey": device["key"]}) as sock:
        stream = await sock.start(DEVICE_STREAM, {"t": device["token"]})
        await asyncio.sleep(0.3)
        now = dt.datetime.now(dt.UTC)
        await _set_seen(device, now - dt.timedelta(days=91))
        assert (await apply_retention(settings, now=now)).devices_deactivated == 1
        ended_with(await sock.receive(stream, 3), "UNAUTHENTICATED")
