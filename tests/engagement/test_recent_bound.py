"""The bound the digest and cap checks ask for before reading deliveries (api/engagement/recent.py):
right on both databases, and on PostgreSQL never more work than the limit asked for, however many
notifications of the app are in flight (each send batch of a capped app asks it)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from api import db
from api.delivery import ledger
from api.engagement import recent
from api.notifications.tables import Notification
from tests.delivery.helpers import send, setup_channel, wait_status
from tests.support import factories as f

IN_FLIGHT = 3000


async def _notifications(app_id: int, channel_id: int, n: int, *, status: str, completed: dt.datetime | None) -> None:
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    for start in range(0, n, 500):
        size = min(500, n - start)
        # fanout_done false: the in-process sweep's settling leaves them as they are
        rows = ", ".join(f"({{}}, {{}}, 't', 'b', {{}}, 'HIGH', 3600, {stamp}, {stamp}, false)" for _ in range(size))
        args: list = []
        for _ in range(size):
            args += [app_id, channel_id, status, dt.datetime.now(dt.UTC), completed]
        await Notification.raw(
            "INSERT INTO notifications (app, channel, title, body, status, priority, ttl, created_at, completed_at,"
            f" fanout_done) VALUES {rows}", *args,
        )


async def test_the_bound_counts_what_may_have_pushed_up_to_the_limit(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=0)
    sent = await send(api, app, channelId=channel["id"], title="own")
    await wait_status(sent["id"], "COMPLETED")
    now = dt.datetime.now(dt.UTC)
    app_id, channel_id = int(app.id), int(channel["id"])
    await _notifications(app_id, channel_id, 3, status="SENT", completed=None)  # awaiting receipts
    await _notifications(app_id, channel_id, 2, status="COMPLETED", completed=now - dt.timedelta(minutes=5))
    await _notifications(app_id, channel_id, 4, status="COMPLETED", completed=now - dt.timedelta(hours=2))
    await _notifications(app_id, channel_id, 5, status="SCHEDULED", completed=None)
    hour_ago = now - dt.timedelta(hours=1)
    own = [int(sent["id"])]  # completed just now: left out when asked
    assert await recent.active_since("app", app_id, hour_ago, limit=100) == 3 + 2 + 1
    assert await recent.active_since("app", app_id, hour_ago, limit=100, leave_out=own) == 3 + 2
    assert await recent.active_since("channel", channel_id, hour_ago, limit=100, leave_out=own) == 3 + 2
    assert await recent.active_since("app", app_id, hour_ago, limit=4, leave_out=own) == 4
    assert await recent.active_since("app", app_id, now - dt.timedelta(minutes=1), limit=100, leave_out=own) == 3


async def test_the_bound_reads_no_more_than_its_limit_with_many_in_flight(api, sandbox, settings, monkeypatch):
    if not settings.is_postgres:
        pytest.skip("the plan's work is PostgreSQL's question; the counts are checked above on both")
    app, channel, _ = await setup_channel(api, expo=0)
    await Notification.raw("ANALYZE notifications")  # statistics from before the burst
    await _notifications(int(app.id), int(channel["id"]), IN_FLIGHT, status="SENT", completed=None)

    statements: list[tuple[str, tuple]] = []
    real = ledger.raw

    def recorded(sql: str, *args):
        if "AS recent" in sql:  # not the in-process sweep's statements meanwhile
            statements.append((sql, args))
        return real(sql, *args)

    monkeypatch.setattr(ledger, "raw", recorded)
    limit = 100
    assert await recent.active_since("app", int(app.id), dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                                     limit=limit, leave_out=[0]) == limit
    monkeypatch.undo()
    (sql, args), = statements
    (row,) = await db.fetch_records(f"EXPLAIN (ANALYZE, FORMAT JSON) {db.numbered(sql)}", *args)
    plan = json.loads(row[0])[0]["Plan"]

    def scans(node: dict):
        if node.get("Relation Name") == "notifications" or node["Node Type"].startswith("Bitmap Index"):
            yield node
        for child in node.get("Plans", []):
            yield from scans(child)

    read = list(scans(plan))
    assert read, plan
    for node in read:  # every range stops at the limit (a bitmap collected all 3,000 first)
        assert node["Actual Rows"] <= limit, (node["Node Type"], node["Actual Rows"])


def _literals(args: tuple) -> str:
    """EXECUTE's arguments written out (it takes no bound parameters)."""
    def one(value) -> str:
        if isinstance(value, list):
            return f"ARRAY[{', '.join(str(int(v)) for v in value)}]::bigint[]"
        if isinstance(value, dt.datetime):
            return f"'{value.isoformat()}'::timestamptz"
        return str(int(value))
    return ", ".join(one(v) for v in args)


async def test_a_quiet_channel_beside_a_busy_one_is_counted_through_its_own_range(api, sandbox, settings,
                                                                                 monkeypatch):
    """A prepared statement is planned generically after five runs: with the channel a parameter,
    that plan guessed an average channel and, expecting a quick match under the LIMIT, scanned
    the table; a quiet channel beside a busy one then read every notification of the busy one."""
    if not settings.is_postgres:
        pytest.skip("generic plans are PostgreSQL's")
    app, busy, _ = await setup_channel(api, expo=0, name="busy")
    quiet = await f.make_channel(api, app, name="quiet")
    await _notifications(int(app.id), int(busy["id"]), IN_FLIGHT, status="SENT", completed=None)
    await Notification.raw("ANALYZE notifications")

    statements: list[tuple[str, tuple]] = []
    real = ledger.raw

    def recorded(sql: str, *args):
        if "AS recent" in sql:
            statements.append((sql, args))
        return real(sql, *args)

    monkeypatch.setattr(ledger, "raw", recorded)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert await recent.active_since("channel", int(quiet["id"]), since, limit=1, leave_out=[0]) == 0
    assert await recent.active_since("channel", int(busy["id"]), since, limit=1, leave_out=[0]) == 1
    monkeypatch.undo()
    sql, args = statements[0]
    engine = db.current_engine()
    async with engine.pool.acquire() as connection:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        try:
            await connection.execute(f"PREPARE bound AS {db.numbered(sql)}")
            (row,) = await connection.fetch(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE bound({_literals(args)})")
        finally:
            await connection.execute("DEALLOCATE bound")
            await connection.execute("RESET plan_cache_mode")
    plan = json.loads(row[0])[0]["Plan"]

    def read(node: dict):
        yield node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0), node["Node Type"]
        for child in node.get("Plans", []):
            yield from read(child)

    for rows, kind in read(plan):  # the busy channel's 3,000 are never read for the quiet one
        assert rows < 10, (kind, rows, plan)
