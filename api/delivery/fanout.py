"""Fan-out: one notification -> a PENDING delivery row per active subscribed device.

Pages through the channel's subscribers by device id (keyset, never OFFSET, never
all in memory), inserts each page in one statement with ON CONFLICT DO NOTHING
(so a re-run creates nothing twice), records its progress, and kicks a send task
per 100 new deliveries.
"""

from __future__ import annotations

import datetime as dt

from api.apps.tables import App
from api.delivery.ledger import refresh_status
from api.notifications.tables import Delivery, Notification
from api.queue import SEND_EXPO, SEND_WEBPUSH
from api.runtime import Runtime

PAGE = 1000
SEND_BATCH = 100  # Expo's maximum per request


async def fan_out(runtime: Runtime, notification_id: int) -> int:
    """Returns how many deliveries this run created."""
    n = await Notification.select(
        Notification.id, Notification.channel, Notification.app, Notification.status,
        Notification.fanout_cursor, Notification.fanout_done,
    ).where(Notification.id == notification_id).first()
    if n is None or n["status"] != "QUEUED":
        return 0  # canceled, still scheduled, or already past fan-out
    if n["fanout_done"]:
        await refresh_status(notification_id)
        return 0
    priority = await _is_priority(n["app"])
    cursor, created = n["fanout_cursor"], 0
    while True:
        page = await Delivery.raw(
            "SELECT d.id AS id, d.platform AS platform FROM channel_subscriptions s"
            " JOIN devices d ON d.id = s.device"
            " WHERE s.channel = {} AND s.device > {} AND d.active = {}"
            " ORDER BY s.device LIMIT {}",
            n["channel"], cursor, True, PAGE,
        )
        if not page:
            break
        now = dt.datetime.now(dt.UTC)
        inserted = await Delivery.insert(
            *[
                Delivery(
                    notification=notification_id, device=d["id"], platform=d["platform"],
                    status="PENDING", next_attempt_at=now, created_at=now, updated_at=now,
                )
                for d in page
            ]
        ).on_conflict(action="DO NOTHING").returning(Delivery.id, Delivery.platform)
        cursor = page[-1]["id"]
        await Notification.update({Notification.fanout_cursor: cursor, Notification.kicked_at: now}).where(
            Notification.id == notification_id
        )
        created += len(inserted)
        await kick_sends(runtime, inserted, priority=priority)
        if len(page) < PAGE:
            break
    await Notification.update({Notification.fanout_done: True}).where(Notification.id == notification_id)
    await refresh_status(notification_id)
    return created


async def kick_sends(runtime: Runtime, deliveries: list[dict], *, priority: bool = False) -> None:
    for platform, task in (("EXPO", SEND_EXPO), ("WEB", SEND_WEBPUSH)):
        ids = [d["id"] for d in deliveries if d["platform"] == platform]
        for start in range(0, len(ids), SEND_BATCH):
            await runtime.queue.kick(task, ids[start : start + SEND_BATCH], priority=priority)


async def _is_priority(app_id: int | None) -> bool:
    if app_id is None:
        return False
    row = await App.select(App.plan).where(App.id == app_id).first()
    return bool(row and row["plan"] == "BUSINESS")
