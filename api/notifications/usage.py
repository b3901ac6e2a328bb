"""Daily usage of apps without a quota, counted in memory and written once a second.

An app with a daily quota takes its unit inside the notification's own transaction, so that
of two racing requests only one can take the last unit (service.take_quota). An app without
a quota has nothing to enforce: its count is a statistic for the dashboard. Taking that row's
lock in every send serialized all of an app's sends on one row (one commit at a time), so the
count is added up here and written as one `count = count + n` per app and day per second.

The trade: a process killed with -9 forgets up to a second of these counts (never a
notification, never a quota). Readers in this process flush first, so they see their own sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter

log = logging.getLogger("booper.usage")
INTERVAL = 1.0

_pending: Counter[tuple[int, dt.date]] = Counter()
_flusher: asyncio.Task | None = None
_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def count(app_id: int, day: dt.date) -> None:
    """One more notification of `app_id` on `day`, written within INTERVAL seconds."""
    global _flusher
    _pending[(app_id, day)] += 1
    if _flusher is None or _flusher.done():
        _flusher = asyncio.get_running_loop().create_task(_run(), name="usage-flusher")


async def flush() -> None:
    """Write what is pending now (and wait for a flush already under way)."""
    lock = _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        if not _pending:
            return
        from api.notifications.tables import DailyUsage

        batch = dict(_pending)
        _pending.clear()
        written: set[tuple[int, dt.date]] = set()
        failed = None
        try:
            for (app_id, day), n in batch.items():
                try:
                    # An app deleted meanwhile has no usage left to count.
                    await DailyUsage.raw(
                        "INSERT INTO daily_usage (app, day, count) SELECT {}, {}, {}"
                        " WHERE EXISTS (SELECT 1 FROM apps WHERE id = {})"
                        " ON CONFLICT (app, day) DO UPDATE SET count = daily_usage.count + EXCLUDED.count",
                        app_id, day, n, app_id,
                    )
                    written.add((app_id, day))
                except Exception as exc:  # noqa: BLE001 - kept for the next flush
                    failed = exc
        finally:
            # Whatever was not written (an error, or this flush cancelled) waits for the next one.
            for key, n in batch.items():
                if key not in written:
                    _pending[key] += n
        if failed is not None:
            raise failed


async def _run() -> None:
    while _pending:
        await asyncio.sleep(INTERVAL)
        try:
            await flush()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - kept and retried at the next interval
            log.exception("could not write daily usage; retrying")


async def stop() -> None:
    """At shutdown: stop the flusher and write the rest."""
    global _flusher
    if _flusher is not None:
        _flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await _flusher
        _flusher = None
    with contextlib.suppress(Exception):
        await flush()
    _locks.pop(asyncio.get_running_loop(), None)
