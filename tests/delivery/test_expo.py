"""Expo: batches of at most 100, the message fields, tickets recorded, ticket errors."""

from __future__ import annotations

from api.notifications.tables import Delivery
from tests.delivery.helpers import (
    DELIVERIES,
    bulk_expo_devices,
    delivery_rows,
    device_row,
    send,
    setup_channel,
    wait_deliveries,
    wait_status,
)


async def test_250_devices_go_out_in_three_requests_of_at_most_100(api, sandbox, api_server):
    app, channel, _ = await setup_channel(api, expo=0)
    devices = await bulk_expo_devices(int(channel["id"]), 250)
    sent = await send(api, app, channelId=channel["id"], title="batch")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=250)
    await api_server.settle()
    stats = sandbox.stats()
    assert stats["requests"]["expo"] == 3
    assert stats["messages"]["expo"] == 250
    assert stats["rejected"] == {}
    received = [m["to"] for m in sandbox.messages()]
    assert sorted(received) == sorted(d["token"] for d in devices)  # each exactly once


async def test_message_carries_collapse_id_priority_ttl_and_data(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sent = await send(
        api,
        app,
        channelId=channel["id"],
        title="Score",
        body="2-1",
        data={"match": 7},
        priority="HIGH",
        ttl=60,
        collapseKey="match-7",
    )
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    (message,) = [m["message"] for m in sandbox.messages(to=device["token"])]
    assert message["to"] == device["token"]
    assert message["title"] == "Score"
    assert message["body"] == "2-1"
    assert message["data"] == {"match": 7, "notificationId": sent["id"]}
    assert message["priority"] == "high"
    assert message["ttl"] == 60
    assert message["collapseId"] == "match-7"


async def test_defaults_leave_optional_fields_out(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], body="plain")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    (message,) = [m["message"] for m in sandbox.messages(to=device["token"])]
    assert message["priority"] == "default"
    assert "ttl" not in message
    assert "collapseId" not in message
    assert "title" not in message


async def test_ticket_ids_are_recorded_per_delivery(api, sandbox, settings):
    settings.receipt_delay = 3600  # hold them at SENT
    app, channel, devices = await setup_channel(api, expo=3)
    sent = await send(api, app, channelId=channel["id"], title="tickets")
    rows = await wait_deliveries(sent["id"], "SENT", count=3)
    tickets = {m["to"]: m["ticket_id"] for m in sandbox.messages()}
    by_device = {d["id"]: d["token"] for d in devices}
    for r in rows:
        assert r["ticket_id"] == tickets[by_device[str(r["device"])]]
        assert r["attempts"] == 1
        assert r["sent_at"] is not None
    nodes = (await api.ok(DELIVERIES, {"n": sent["id"]}, api_key=app.api_key))["deliveries"][
        "nodes"
    ]
    assert sorted(n["ticketId"] for n in nodes) == sorted(tickets.values())
    assert {n["status"] for n in nodes} == {"SENT"}


async def test_ticket_device_not_registered_fails_and_deactivates_for_good(api, sandbox):
    app, channel, (dead, alive) = await setup_channel(api, expo=2)
    sandbox.faults({"provider": "expo", "match": dead["token"], "fault": "DeviceNotRegistered"})
    first = await send(api, app, channelId=channel["id"], title="one")
    rows = {
        r["device"]: r
        for r in await wait_deliveries(first["id"], "FAILED", "SENT", "DELIVERED", count=2)
    }
    failed = rows[int(dead["id"])]
    assert failed["status"] == "FAILED"
    assert failed["error"] == "DeviceNotRegistered"
    assert failed["attempts"] == 1
    assert failed["ticket_id"] is None
    assert (await device_row(dead["id"]))["active"] is False
    assert (await device_row(alive["id"]))["active"] is True
    nodes = (await api.ok(DELIVERIES, {"n": first["id"]}, api_key=app.api_key))["deliveries"][
        "nodes"
    ]
    # By id: the devices registered themselves, so the app does not read their tokens.
    assert {n["device"]["id"]: n["device"]["active"] for n in nodes} == {
        dead["id"]: False,
        alive["id"]: True,
    }

    sandbox.reset()
    second = await send(api, app, channelId=channel["id"], title="two")
    await wait_status(second["id"], "COMPLETED")
    assert [r["device"] for r in await delivery_rows(second["id"])] == [int(alive["id"])]
    assert sandbox.messages(to=dead["token"]) == []
    assert len(sandbox.messages(to=alive["token"])) == 1


async def test_message_too_big_ticket_fails_the_delivery_but_keeps_the_device(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sandbox.faults({"provider": "expo", "match": device["token"], "fault": "MessageTooBig"})
    sent = await send(api, app, channelId=channel["id"], title="x")
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == "MessageTooBig"
    assert row["attempts"] == 1  # permanent for the message: no retry
    assert (await device_row(device["id"]))["active"] is True
    await wait_status(sent["id"], "COMPLETED")


async def test_one_bad_ticket_does_not_fail_the_rest_of_the_batch(api, sandbox):
    app, channel, devices = await setup_channel(api, expo=5)
    sandbox.faults(
        {"provider": "expo", "match": devices[2]["token"], "fault": "DeviceNotRegistered"}
    )
    sent = await send(api, app, channelId=channel["id"], title="batch")
    rows = await wait_deliveries(sent["id"], "FAILED", "DELIVERED", count=5)
    assert sorted(r["status"] for r in rows) == ["DELIVERED"] * 4 + ["FAILED"]
    assert sandbox.stats()["requests"]["expo"] == 1
    assert await Delivery.count().where(Delivery.status == "FAILED") == 1
