"""Fan-out: one notification -> a PENDING delivery row per active target device.

The targets are a channel's subscribers, or for a direct send the devices of the persons it
names, or the devices it names (api/delivery/targets.py). Pages through them by device id
(keyset, never OFFSET, never all in memory), inserts each page in one statement with ON CONFLICT
DO NOTHING (so a re-run creates nothing twice), records its progress, and kicks a send task per
pipeline.SEND_BATCH new deliveries. Each delivery records the person of the notification's app its device
belongs to (read state and badges are per person).
"""

from __future__ import annotations

import asyncio
import datetime as dt

from api import db
from api.apps.tables import App
from api.delivery import targets
from api.delivery.ledger import refresh_status
from api.delivery.pipeline import kick_fan_outs, kick_sends
from api.notifications.tables import Notification
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
    source = await targets.source_of(n)
    postgres = db.is_postgres(db.current_engine())
    cursor, created = n["fanout_cursor"], 0
    for _ in range(PAGES_PER_RUN):
        now = dt.datetime.now(dt.UTC)
        if postgres:
            last, inserted = await _page_pg(source, notification_id, cursor, now)
            if last is None:
                break
        else:
            last = await _page_end(source, cursor)
            if last is None:
                break
            inserted = await _insert_page(source, notification_id, cursor, last, now)
            await Notification.update({Notification.fanout_cursor: last, Notification.kicked_at: now}).where(
                Notification.id == notification_id
            )
        cursor = last
        created += len(inserted)
        await kick_sends(runtime, inserted, priority=priority)
    else:
        if await _page_end(source, cursor) is not None:
            await kick_fan_outs(runtime, [notification_id], priority=priority)
            return created
    await Notification.update({Notification.fanout_done: True}).where(Notification.id == notification_id)
    await refresh_status(notification_id)
    return created


_PAGE_PG = """
WITH page AS ({source}), created AS (
    INSERT INTO deliveries (notification, device, platform, person, status, attempts, next_attempt_at,
                            created_at, updated_at)
    SELECT :notification, device, platform, person, 'PENDING', 0, :now, :now, :now FROM page
    ON CONFLICT DO NOTHING RETURNING id, platform
), progress AS (
    UPDATE notifications SET fanout_cursor = (SELECT max(device) FROM page), kicked_at = :now
    WHERE id = :notification AND EXISTS (SELECT 1 FROM page)
)
SELECT (SELECT max(device) FROM page) AS last,
       (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM created) AS ids,
       (SELECT coalesce(array_agg(platform ORDER BY id), '{{}}') FROM created) AS platforms
"""


async def _page_pg(
    source: targets.Source, notification_id: int, after: int, now: dt.datetime
) -> tuple[int | None, list[dict]]:
    """PostgreSQL: a whole page in one statement, so one round trip and one commit: the page's
    rows, the notification's progress, and the ids created (as arrays, not a row each)."""
    sql, args = source.compile(
        _PAGE_PG.format(source=source.sql), "pg",
        notification=notification_id, now=now, after=after, limit=PAGE,
    )
    (row,) = await db.fetch(sql, *args)
    return row["last"], [{"id": i, "platform": p} for i, p in zip(row["ids"], row["platforms"], strict=True)]


async def _page_end(source: targets.Source, after_device: int) -> int | None:
    """The last device id of the next page of targets (None: no more)."""
    sql, args = source.compile(f"SELECT MAX(device) AS last FROM ({source.sql}) AS page", "piccolo",
                               after=after_device, limit=PAGE)
    rows = await Notification.raw(sql, *args)
    return rows[0]["last"] if rows and rows[0]["last"] is not None else None


async def _insert_page(
    source: targets.Source, notification_id: int, after: int, last: int, now: dt.datetime
) -> list[dict]:
    """SQLite (PostgreSQL: _page_pg): one set-based statement per page, no rows built in Python,
    ON CONFLICT makes re-runs create nothing twice, RETURNING gives what this run created."""
    sql, args = source.compile(
        "INSERT INTO deliveries (notification, device, platform, person, status, attempts, next_attempt_at,"
        " created_at, updated_at)"
        " SELECT CAST(:notification AS BIGINT), device, platform, person, 'PENDING', 0, :now, :now, :now"
        f" FROM ({source.sql}) AS page WHERE device <= :last"
        " ON CONFLICT DO NOTHING RETURNING id, platform",
        "piccolo", notification=notification_id, now=now, after=after, last=last, limit=PAGE,
    )
    return await Notification.raw(sql, *args)


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
