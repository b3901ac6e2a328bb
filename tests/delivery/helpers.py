"""Helpers for the delivery suite: polling with a deadline, ledger rows, fast bulk devices."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from api.channels.tables import ChannelSubscription
from api.devices.tables import Device
from api.notifications.tables import Delivery, Notification
from tests.support import factories as f
from tests.support.graphql import GraphQLClient

_seq = itertools.count(1)

SEND = (
    "mutation($i: SendNotificationInput!) { sendNotification(input: $i) {"
    " id status title body data priority collapseKey ttl sendAt channel { id name } } }"
)
NOTIFICATION = (
    "query($n: ID!) { notification(id: $n) { id status sentAt"
    " deliveryCounts { pending sent delivered failed } } }"
)
DELIVERIES = (
    "query($n: ID!) { deliveries(notificationId: $n, first: 100) { nodes {"
    " id status attempts error ticketId device { id token active } } } }"
)


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    *,
    within: float = 5.0,
    interval: float = 0.02,
    what: str = "condition",
) -> Any:
    """Poll `probe` until it returns something truthy; fail with the last value at the deadline."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {within}s waiting for {what}; last value: {value!r}"
            )
        await asyncio.sleep(interval)


async def eventually_sync(probe: Callable[[], Any], **kw: Any) -> Any:
    async def wrapped():
        return probe()

    return await eventually(wrapped, **kw)


async def notification_row(nid: int | str) -> dict:
    return await Notification.select().where(Notification.id == int(nid)).first()


async def delivery_rows(nid: int | str) -> list[dict]:
    return (
        await Delivery.select().where(Delivery.notification == int(nid)).order_by(Delivery.device)
    )


async def device_row(device_id: int | str) -> dict:
    return await Device.select().where(Device.id == int(device_id)).first()


async def wait_status(nid: int | str, *statuses: str, within: float = 5.0) -> dict:
    async def probe():
        row = await notification_row(nid)
        return row if row and row["status"] in statuses else None

    return await eventually(probe, within=within, what=f"notification {nid} in {statuses}")


async def wait_deliveries(
    nid: int | str, *statuses: str, count: int | None = None, within: float = 5.0
) -> list[dict]:
    """Every delivery row of the notification, once all are in `statuses` (and `count` exist)."""

    async def probe():
        rows = await delivery_rows(nid)
        if count is not None and len(rows) != count:
            return None
        return rows if rows and all(r["status"] in statuses for r in rows) else None

    return await eventually(probe, within=within, what=f"deliveries of {nid} all in {statuses}")


async def send(
    api: GraphQLClient, app: f.AppHandle | None, *, token: str | None = None, **fields: Any
) -> dict:
    auth = {"token": token} if token else ({"api_key": app.api_key} if app else {})
    return (await api.ok(SEND, {"i": fields}, **auth))["sendNotification"]


async def send_error(
    api: GraphQLClient, app: f.AppHandle | None, *, token: str | None = None, **fields: Any
) -> dict:
    auth = {"token": token} if token else ({"api_key": app.api_key} if app else {})
    return await api.error(SEND, {"i": fields}, **auth)


async def counts(api: GraphQLClient, app: f.AppHandle, nid: str) -> dict:
    data = await api.ok(NOTIFICATION, {"n": nid}, api_key=app.api_key)
    return data["notification"]


async def setup_channel(
    api: GraphQLClient,
    *,
    expo: int = 1,
    visibility: str = "PUBLIC",
    name: str | None = None,
    app: f.AppHandle | None = None,
) -> tuple[f.AppHandle, dict, list[dict]]:
    """An app, one channel and `expo` Expo devices subscribed to it through the API."""
    app = app or await f.make_app(api)
    channel = await f.make_channel(api, app, visibility=visibility, name=name)
    devices = []
    for _ in range(expo):
        device = await f.make_expo_device(api)
        if visibility == "PUBLIC":
            await f.subscribe(api, device, channel)
        else:
            await bulk_subscribe(int(channel["id"]), [int(device["id"])])
        devices.append(device)
    return app, channel, devices


async def bulk_subscribe(channel_id: int, device_ids: list[int]) -> None:
    now = dt.datetime.now(dt.UTC)
    await ChannelSubscription.insert(
        *[ChannelSubscription(channel=channel_id, device=d, created_at=now) for d in device_ids]
    )


async def bulk_expo_devices(channel_id: int, n: int, *, active: bool = True) -> list[dict]:
    """`n` Expo devices written straight to the tables and subscribed (fast big fan-outs)."""
    now = dt.datetime.now(dt.UTC)
    batch = next(_seq)
    rows = await Device.insert(
        *[
            Device(
                platform="EXPO",
                token=f"ExponentPushToken[bulk{batch}x{i}]",
                active=active,
                created_at=now,
            )
            for i in range(n)
        ]
    ).returning(Device.id, Device.token)
    await bulk_subscribe(channel_id, [r["id"] for r in rows])
    return rows
