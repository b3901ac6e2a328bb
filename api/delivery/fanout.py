"""Fan-out: one notification -> a PENDING delivery row per active target device.

The targets are a channel's subscribers, or for a direct send the devices of the persons it
names, or the devices it names (api/delivery/targets.py). Pages through them by key (the device
id, or (person, device) for a send to persons; keyset, never OFFSET, never all in memory, at most
PAGE rows a page; a short page is the last), inserts each page in one statement with ON CONFLICT
DO NOTHING (so a re-run creates nothing twice), records its progress (the page's last key), and
kicks a send task per pipeline.SEND_BATCH new deliveries. Each delivery records the person of the
notification's app its device belongs to (read state and badges are per person).
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
        Notification.fanout_cursor, Notification.fanout_cursor_device, Notification.fanout_done,
    ).where(Notification.id == notification_id).first()
    if n is None or n["status"] != "QUEUED":
        return 0  # canceled, still scheduled, or already past fan-out
    if n["fanout_done"]:
        await refresh_status(notification_id)
        return 0
    priority = await _is_priority(n["app"])
    source = await targets.source_of(n)
    postgres = db.is_postgres(db.current_engine())
    cursor, created = (n["fanout_cursor"], n["fanout_cursor_device"]), 0
    for _ in range(PAGES_PER_RUN):
        now = dt.datetime.now(dt.UTC)
        if postgres:
            last, rows, inserted = await _page_pg(source, notification_id, cursor, now)
        else:
            last, rows = await _page_end(source, cursor)
            if last is not None:
                inserted = await _insert_page(source, notification_id, cursor, last, now)
                await Notification.update({
                    Notification.fanout_cursor: last[0], Notification.fanout_cursor_device: last[1],
                    Notification.kicked_at: now,
                }).where(Notification.id == notification_id)
        if last is None:
            break
        cursor = last
        created += len(inserted)
        await kick_sends(runtime, inserted, priority=priority)
        if rows < PAGE:
            break  # a short page is the last: no statement to find the next one empty
    else:
        await kick_fan_outs(runtime, [notification_id], priority=priority)  # the rest, in a fresh task
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
), tail AS (
    SELECT key, key2 FROM page ORDER BY key DESC, key2 DESC LIMIT 1
), progress AS (
    UPDATE notifications SET fanout_cursor = tail.key, fanout_cursor_device = tail.key2, kicked_at = :now
    FROM tail WHERE notifications.id = :notification
)
SELECT (SELECT key FROM tail) AS last, (SELECT key2 FROM tail) AS last_device, (SELECT count(*) FROM page) AS n_rows,
       (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM created) AS ids,
       (SELECT coalesce(array_agg(platform ORDER BY id), '{{}}') FROM created) AS platforms
"""


async def _page_pg(
    source: targets.Source, notification_id: int, after: tuple[int, int], now: dt.datetime
) -> tuple[tuple[int, int] | None, int, list[dict]]:
    """PostgreSQL: a whole page in one statement, so one round trip and one commit: the page's
    rows, the notification's progress, and the ids created (as arrays, not a row each).
    Returns (the page's last key or None: no more, how many rows it had, the deliveries created)."""
    sql, args = source.compile(
        _PAGE_PG.format(source=source.sql), "pg",
        notification=notification_id, now=now, after=after[0], after_device=after[1], limit=PAGE,
    )
    (row,) = await db.fetch(sql, *args)
    created = [{"id": i, "platform": p} for i, p in zip(row["ids"], row["platforms"], strict=True)]
    last = None if row["last"] is None else (row["last"], row["last_device"])
    return last, row["n_rows"], created


async def _page_end(source: targets.Source, after: tuple[int, int]) -> tuple[tuple[int, int] | None, int]:
    """The last key of the next page of targets (None: no more) and how many rows it has."""
    sql, args = source.compile(
        f"SELECT key, key2, (SELECT COUNT(*) FROM ({source.sql}) AS counted) AS n_rows FROM ({source.sql}) AS page"
        " ORDER BY key DESC, key2 DESC LIMIT 1", "piccolo",
        after=after[0], after_device=after[1], limit=PAGE,
    )
    rows = await Notification.raw(sql, *args)
    if not rows:
        return None, 0
    return (rows[0]["key"], rows[0]["key2"]), rows[0]["n_rows"]


async def _insert_page(
    source: targets.Source, notification_id: int, after: tuple[int, int], last: tuple[int, int], now: dt.datetime
) -> list[dict]:
    """SQLite (PostgreSQL: _page_pg): one set-based statement per page, no rows built in Python,
    ON CONFLICT makes re-runs create nothing twice, RETURNING gives what this run created."""
    sql, args = source.compile(
        "INSERT INTO deliveries (notification, device, platform, person, status, attempts, next_attempt_at,"
        " created_at, updated_at)"
        " SELECT CAST(:notification AS BIGINT), device, platform, person, 'PENDING', 0, :now, :now, :now"
        f" FROM ({source.sql}) AS page WHERE key < :last OR (key = :last AND key2 <= :last_device)"
        " ON CONFLICT DO NOTHING RETURNING id, platform",
        "piccolo", notification=notification_id, now=now, after=after[0], after_device=after[1],
        last=last[0], last_device=last[1], limit=PAGE,
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
