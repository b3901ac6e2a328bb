"""Fan-out: one PENDING delivery per active subscribed device, in pages, never twice."""

from __future__ import annotations

import datetime as dt

import pytest

from api.delivery import fanout
from api.devices.tables import Device
from api.notifications.tables import Delivery, Notification
from tests.delivery.helpers import (
    bulk_expo_devices,
    delivery_rows,
    send,
    setup_channel,
    wait_deliveries,
    wait_status,
)
from tests.support import factories as f


async def test_one_delivery_per_active_subscribed_device(api, sandbox):
    app, channel, devices = await setup_channel(api, expo=3)
    web = await f.make_web_device(api, sandbox)
    await f.subscribe(api, web, channel)
    inactive = await f.make_expo_device(api)
    await f.subscribe(api, inactive, channel)
    await Device.update({Device.active: False}).where(Device.id == int(inactive["id"]))
    elsewhere = await f.make_expo_device(api)  # registered, subscribed to another channel only
    await f.subscribe(api, elsewhere, await f.make_channel(api, app))
    unregistered = await f.make_expo_device(api)
    await f.subscribe(api, unregistered, channel)
    await api.ok(
        "mutation($t: String!) { unregisterDevice(deviceToken: $t) }", {"t": unregistered["token"]}
    )

    sent = await send(api, app, channelId=channel["id"], title="hello")
    rows = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=4)
    expected = {int(d["id"]) for d in [*devices, web]}
    assert {r["device"] for r in rows} == expected
    assert {r["platform"] for r in rows} == {"EXPO", "WEB"}
    assert sandbox.messages(to=inactive["token"]) == []
    assert sandbox.messages(to=elsewhere["token"]) == []
    assert sandbox.messages(to=unregistered["token"]) == []
    for d in devices:
        assert len(sandbox.messages(to=d["token"])) == 1


async def test_a_channel_without_devices_completes_at_once(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=0)
    sent = await send(api, app, channelId=channel["id"], title="into the void")
    row = await wait_status(sent["id"], "COMPLETED")
    assert row["fanout_done"] is True
    assert row["sent_at"] is not None
    assert await delivery_rows(sent["id"]) == []


async def test_rerunning_a_finished_fan_out_creates_nothing_twice(
    api, sandbox, runtime, api_server
):
    app, channel, devices = await setup_channel(api, expo=3)
    sent = await send(api, app, channelId=channel["id"], title="once")
    await wait_status(sent["id"], "SENT", "COMPLETED")
    await api_server.settle()
    before = await delivery_rows(sent["id"])
    assert len(before) == 3

    # as if the task ran again from scratch (a re-delivered message after a crash)
    await Notification.update(
        {
            Notification.fanout_done: False,
            Notification.fanout_cursor: 0,
            Notification.status: "QUEUED",
            Notification.kicked_at: dt.datetime.now(dt.UTC),  # fresh: the sweep keeps off
        }
    ).where(Notification.id == int(sent["id"]))
    assert await fanout.fan_out(runtime, int(sent["id"])) == 0
    await api_server.settle()
    after = await delivery_rows(sent["id"])
    assert [r["id"] for r in after] == [r["id"] for r in before]
    assert sum(len(sandbox.messages(to=d["token"])) for d in devices) == 3
    assert (
        await Notification.select(Notification.fanout_done)
        .where(Notification.id == int(sent["id"]))
        .first()
    )["fanout_done"] is True


async def test_a_resumed_fan_out_fills_in_only_what_is_missing(api, sandbox, runtime, api_server):
    app, channel, devices = await setup_channel(api, expo=4)
    sent = await send(api, app, channelId=channel["id"], title="resume")
    await wait_status(sent["id"], "SENT", "COMPLETED")
    await api_server.settle()
    rows = await delivery_rows(sent["id"])
    # lose the last two deliveries, as if the worker died after the first page
    await Delivery.delete().where(Delivery.id.is_in([r["id"] for r in rows[2:]]))
    await Notification.update(
        {
            Notification.fanout_done: False,
            Notification.fanout_cursor: rows[1]["device"],
            Notification.status: "QUEUED",
            Notification.kicked_at: dt.datetime.now(dt.UTC),  # fresh: the sweep keeps off
        }
    ).where(Notification.id == int(sent["id"]))
    assert await fanout.fan_out(runtime, int(sent["id"])) == 2
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=4)
    await api_server.settle()
    for d in devices[:2]:
        assert len(sandbox.messages(to=d["token"])) == 1
    for d in devices[2:]:
        assert len(sandbox.messages(to=d["token"])) == 2  # the lost ones were sent again, once


async def test_fan_out_pages_through_devices_by_keyset(
    api, sandbox, runtime, api_server, monkeypatch
):
    monkeypatch.setattr(fanout, "PAGE", 7)
    app, channel, _ = await setup_channel(api, expo=0)
    active = await bulk_expo_devices(int(channel["id"]), 30)
    await bulk_expo_devices(int(channel["id"]), 5, active=False)
    sent = await send(api, app, channelId=channel["id"], title="paged")
    rows = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=30)
    assert sorted(r["device"] for r in rows) == sorted(d["id"] for d in active)
    row = await wait_status(sent["id"], "SENT", "COMPLETED")
    assert row["fanout_done"] is True
    assert row["fanout_cursor"] >= max(d["id"] for d in active)
    await api_server.settle()
    assert sandbox.stats()["messages"]["expo"] == 30


@pytest.mark.parametrize("status", ["SCHEDULED", "CANCELED"])
async def test_fan_out_does_nothing_for_a_notification_not_queued(api, sandbox, runtime, status):
    app, channel, _ = await setup_channel(api, expo=2)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    sent = await send(
        api,
        app,
        channelId=channel["id"],
        title="x",
        sendAt=later if status == "SCHEDULED" else None,
    )
    if status == "CANCELED":
        await wait_status(sent["id"], "SENT", "COMPLETED")
        await Delivery.delete(force=True)
        await Notification.update(
            {Notification.status: "CANCELED", Notification.fanout_done: False}
        ).where(Notification.id == int(sent["id"]))
    assert await fanout.fan_out(runtime, int(sent["id"])) == 0
    assert await delivery_rows(sent["id"]) == []


@pytest.mark.parametrize("plan, priority", [("FREE", False), ("BUSINESS", True)])
async def test_business_deliveries_go_to_the_priority_queue(
    api, sandbox, runtime, monkeypatch, plan, priority
):
    kicks = []
    real_kick = runtime.queue.kick

    async def recording_kick(task_name, *args, priority=False, **kwargs):
        kicks.append((task_name, priority))
        return await real_kick(task_name, *args, priority=priority, **kwargs)

    monkeypatch.setattr(runtime.queue, "kick", recording_kick)
    app = await f.make_app(api, plan=plan)
    app, channel, _ = await setup_channel(api, expo=2, app=app)
    sent = await send(api, app, channelId=channel["id"], title="vip")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    assert ("booper.send_expo", priority) in kicks
