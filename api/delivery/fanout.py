"""Fan-out: one notification -> a PENDING delivery row per active subscribed device.

Pages through the channel's subscribers by device id (keyset, never OFFSET, never
all in memory), inserts each page in one statement with ON CONFLICT DO NOTHING
(so a re-run creates nothing twice), records its progress, and kicks a send task
per pipeline.SEND_BATCH new deliveries.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from api import db
from api.apps.tables import App
from api.delivery.ledger import refresh_status
from api.delivery.pipeline import kick_fan_outs, kick_sends
from api.notifications.tables import Delivery, Notification
from api.runtime import Runtime

PAGE = 1000
PAGES_PER_RUN = 20


async def fan_out(runtime: Runtime, notification_id: int) -> int:
    """Returns how many deliveries this run created. A run handles at most PAGES_PER_RUN pages
    and then hands the rest to a fresh task, so no task outlives the queue's redelivery timeout
    (a task still running when Redis re-delivers it would be run twice, concurrently)."""
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
    postgres = db.is_postgres(db.current_engine())
    cursor, created = n["fanout_cursor"], 0
    for _ in range(PAGES_PER_RUN):
        now = dt.datetime.now(dt.UTC)
        if postgres:
            last, inserted = await _page_pg(notification_id, n["channel"], cursor, now)
            if last is None:
                break
        else:
            last = await _page_end(n["channel"], cursor)
            if last is None:
                break
            inserted = await _insert_page(notification_id, n["channel"], cursor, last, now)
            await Notification.update({Notification.fanout_cursor: last, Notification.kicked_at: now}).where(
                Notification.id == notification_id
            )
        cursor = last
        created += len(inserted)
        await kick_sends(runtime, inserted, priority=priority)
    else:
        if await _page_end(n["channel"], cursor) is not None:
            await kick_fan_outs(runtime, [notification_id], priority=priority)
            return created
    await Notification.update({Notification.fanout_done: True}).where(Notification.id == notification_id)
    await refresh_status(notification_id)
    return created


_PAGE_PG = """
WITH page AS (
    SELECT s.device AS device, d.platform AS platform FROM channel_subscriptions s
    JOIN devices d ON d.id = s.device
    WHERE s.channel = $2 AND s.device > $3 AND d.active
    ORDER BY s.device LIMIT $5
), created AS (
    INSERT INTO deliveries (notification, device, platform, status, attempts, next_attempt_at, created_at, updated_at)
    SELECT $1, device, platform, 'PENDING', 0, $4, $4, $4 FROM page
    ON CONFLICT DO NOTHING RETURNING id, platform
), progress AS (
    UPDATE notifications SET fanout_cursor = (SELECT max(device) FROM page), kicked_at = $4
    WHERE id = $1 AND EXISTS (SELECT 1 FROM page)
)
SELECT (SELECT max(device) FROM page) AS last,
       (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM created) AS ids,
       (SELECT coalesce(array_agg(platform ORDER BY id), '{}') FROM created) AS platforms
"""


async def _page_pg(
    notification_id: int, channel_id: int, after: int, now: dt.datetime
) -> tuple[int | None, list[dict]]:
    """PostgreSQL: a whole page in one statement, so one round trip and one commit: the page's
    rows, the notification's progress, and the ids created with their platforms (two arrays, not a row each)."""
    (row,) = await db.fetch(_PAGE_PG, notification_id, channel_id, after, now, PAGE)
    created = [{"id": i, "platform": p} for i, p in zip(row["ids"], row["platforms"], strict=True)]
    return row["last"], created


async def _page_end(channel_id: int, after_device: int) -> int | None:
    """The last device id of the next page of active subscribers (None: no more)."""
    rows = await Delivery.raw(
        "SELECT MAX(device) AS last FROM (SELECT s.device AS device FROM channel_subscriptions s"
        " JOIN devices d ON d.id = s.device WHERE s.channel = {} AND s.device > {} AND d.active = {}"
        " ORDER BY s.device LIMIT {}) AS page",
        channel_id, after_device, True, PAGE,
    )
    return rows[0]["last"] if rows and rows[0]["last"] is not None else None


async def _insert_page(notification_id: int, channel_id: int, after: int, last: int, now: dt.datetime) -> list[dict]:
    """SQLite (PostgreSQL: _page_pg): one set-based statement per page, no rows built in Python,
    ON CONFLICT makes re-runs create nothing twice, RETURNING gives what this run created."""
    return await Delivery.raw(
        "INSERT INTO deliveries (notification, device, platform, status, attempts, next_attempt_at,"
        " created_at, updated_at)"
        " SELECT CAST({} AS BIGINT), d.id, d.platform, 'PENDING', 0, {}, {}, {}"
        " FROM channel_subscriptions s JOIN devices d ON d.id = s.device"
        " WHERE s.channel = {} AND s.device > {} AND s.device <= {} AND d.active = {}"
        " ON CONFLICT DO NOTHING RETURNING id, platform",
        notification_id, now, now, now, channel_id, after, last, True,
    )


async def _is_priority(app_id: int | None) -> bool:
    if app_id is None:
        return False
    row = await App.select(App.plan).where(App.id == app_id).first()
    return bool(row and row["plan"] == "BUSINESS")


async def fan_out_many(runtime: Runtime, notification_ids: list[int], *, concurrency: int = 8) -> None:
    """Notifications kicked together (sending.dispatch): each fanned out as if alone. One that
    fails does not stop the others; the task then fails, and its retry skips what is done."""
    gate = asyncio.Semaphore(concurrency)

    async def one(notification_id: int) -> int:
        async with gate:
            return await fan_out(runtime, notification_id)

    results = await asyncio.gather(*(one(i) for i in notification_ids), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
