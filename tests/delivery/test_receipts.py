"""Expo receipts and the notification lifecycle: QUEUED -> SENT -> COMPLETED, deliveryCounts."""

from __future__ import annotations

import datetime as dt
import uuid

from api import db
from api.delivery import receipts
from api.notifications.tables import Delivery, Notification
from tests.delivery.helpers import (
    bulk_expo_devices,
    counts,
    device_row,
    send,
    setup_channel,
    wait_deliveries,
    wait_status,
)


async def test_statuses_roll_forward_with_delivery_counts(api, sandbox, settings):
    settings.receipt_delay = 3600  # tickets wait for their receipts until the test says so
    app, channel, devices = await setup_channel(api, expo=3)
    sent = await send(api, app, channelId=channel["id"], title="lifecycle")
    assert sent["status"] == "QUEUED"
    await wait_deliveries(sent["id"], "SENT", count=3)
    await wait_status(sent["id"], "SENT")
    seen = await counts(api, app, sent["id"])
    assert seen["status"] == "SENT"
    assert seen["sentAt"] is not None
    assert seen["deliveryCounts"] == {"pending": 0, "sent": 3, "delivered": 0, "failed": 0}

    settings.receipt_delay = 0.1
    await wait_status(sent["id"], "COMPLETED")
    seen = await counts(api, app, sent["id"])
    assert seen["status"] == "COMPLETED"
    assert seen["deliveryCounts"] == {"pending": 0, "sent": 0, "delivered": 3, "failed": 0}
    rows = await wait_deliveries(sent["id"], "DELIVERED", count=3)
    assert all(r["ticket_id"] and r["sent_at"] for r in rows)
    assert all(r["attempts"] == 1 for r in rows)  # a receipt is not another attempt


async def test_delivery_counts_are_for_the_app_only(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=1)
    sent = await send(api, None, channelId=channel["id"], title="anonymous")
    await wait_status(sent["id"], "COMPLETED")
    assert (await counts(api, app, sent["id"]))["deliveryCounts"]["delivered"] == 1
    error = await api.error("query($n: ID!) { notification(id: $n) { id } }", {"n": sent["id"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_receipt_device_not_registered_fails_and_deactivates(api, sandbox):
    app, channel, (dead, alive) = await setup_channel(api, expo=2)
    sandbox.faults(
        {"provider": "expo", "match": dead["token"], "fault": "receipt:DeviceNotRegistered"}
    )
    sent = await send(api, app, channelId=channel["id"], title="x")
    rows = {
        r["device"]: r for r in await wait_deliveries(sent["id"], "FAILED", "DELIVERED", count=2)
    }
    failed = rows[int(dead["id"])]
    assert failed["status"] == "FAILED"
    assert failed["error"] == "DeviceNotRegistered"
    assert failed["ticket_id"]  # Expo accepted it first: the ticket stays on record
    assert rows[int(alive["id"])]["status"] == "DELIVERED"
    assert (await device_row(dead["id"]))["active"] is False
    assert (await device_row(alive["id"]))["active"] is True
    done = await wait_status(sent["id"], "COMPLETED")
    assert done["completed_at"] is not None
    assert (await counts(api, app, sent["id"]))["deliveryCounts"] == {
        "pending": 0,
        "sent": 0,
        "delivered": 1,
        "failed": 1,
    }

    again = await send(api, app, channelId=channel["id"], title="y")
    await wait_status(again["id"], "COMPLETED")
    assert (
        len(sandbox.messages(to=dead["token"])) == 0
    )  # the fault kept its first message; none since


async def test_receipt_message_error_fails_but_keeps_the_device(api, sandbox):
    app, channel, (device,) = await setup_channel(api, expo=1)
    sandbox.faults({"provider": "expo", "match": device["token"], "fault": "receipt:MessageTooBig"})
    sent = await send(api, app, channelId=channel["id"], title="x")
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == "MessageTooBig"
    assert (await device_row(device["id"]))["active"] is True


async def test_a_ticket_without_a_receipt_for_24h_fails_as_expired(
    api, sandbox, sandbox_server, settings
):
    sandbox_server.state.receipt_delay_seconds = 3600  # Expo has no receipt yet ...
    try:
        settings.receipt_expiry = 1.0  # ... and we stop waiting after a second
        app, channel, (device,) = await setup_channel(api, expo=1)
        sent = await send(api, app, channelId=channel["id"], title="x")
        await wait_deliveries(sent["id"], "SENT", count=1)
        (row,) = await wait_deliveries(sent["id"], "FAILED", count=1, within=5)
        assert row["error"] == "ReceiptExpired"
        assert (await device_row(device["id"]))["active"] is True
        await wait_status(sent["id"], "COMPLETED")
    finally:
        sandbox_server.state.receipt_delay_seconds = 0.0


async def test_receipts_are_fetched_1000_ids_per_request(
    api, sandbox, sandbox_server, runtime, settings
):
    settings.receipt_delay = 3600  # the periodic job leaves them alone ...
    app, channel, _ = await setup_channel(api, expo=0)
    devices = await bulk_expo_devices(int(channel["id"]), 1500)
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(hours=2)
    tickets = [str(uuid.uuid4()) for _ in devices]
    async with db.transaction():  # the sweep must not see the notification without its deliveries
        n = (
            await Notification.insert(
                Notification(
                    app=int(app.id),
                    channel=int(channel["id"]),
                    title="bulk",
                    status="SENT",
                    created_at=now,
                    fanout_done=True,
                    sent_at=now,
                    kicked_at=now,
                )
            ).returning(Notification.id)
        )[0]["id"]
        await Delivery.insert(
            *[
                Delivery(
                    notification=n,
                    device=d["id"],
                    platform="EXPO",
                    status="SENT",
                    attempts=1,
                    ticket_id=t,
                    sent_at=old,
                    created_at=old,
                    updated_at=old,
                )
                for d, t in zip(devices, tickets, strict=True)
            ]
        )
    for t in tickets:
        sandbox_server.state.add_receipt(t, {"status": "ok"})
    settings.receipt_delay = 60  # ... until they are due: the sandbox refuses more than 1,000 ids
    await wait_status(n, "COMPLETED", within=10)
    assert await Delivery.count().where(Delivery.status == "DELIVERED") == 1500
    assert sandbox.stats()["requests"]["expo_receipts"] >= 2
    assert await receipts.check_receipts(runtime) == 0


async def test_receipts_unavailable_leave_tickets_for_the_next_run(api, sandbox, runtime, settings):
    settings.receipt_delay = 3600
    app, channel, _ = await setup_channel(api, expo=2)
    sent = await send(api, app, channelId=channel["id"], title="x")
    await wait_deliveries(sent["id"], "SENT", count=2)
    applied = sandbox.stats()["faults_applied"]
    sandbox.faults({"provider": "expo_receipts", "fault": "http_503", "times": 1, "retry_after": 0})
    settings.receipt_delay = 0
    await wait_status(sent["id"], "COMPLETED")
    rows = await wait_deliveries(sent["id"], "DELIVERED", count=2)
    assert all(r["error"] is None for r in rows)
    assert sandbox.stats()["faults_applied"] == applied + 1
