"""Claims find their rows by id, whatever the statistics say about statuses.

A send batch claims its deliveries by id (`id = ANY(ids) AND status = 'PENDING' AND not leased`).
The partial status indexes (PENDING and HELD; SENT) look small to the planner when the table's
statistics were taken between fan-outs, and in the middle of a big fan-out they hold every
delivery not yet sent: a claim planned on that index read all of them and compared each with the
batch's ids (45 ms a claim of 1,000 with 20,000 pending, against 0.8 ms through the primary key).
PostgreSQL only: SQLite keeps no statistics unless asked (ANALYZE), and has no such plans.
"""

from __future__ import annotations

import datetime as dt

import pytest

from api import db
from api.delivery import ledger
from api.notifications.tables import Delivery
from tests.delivery.helpers import send, setup_channel, wait_status

STALE = 3000  # deliveries in the table when the statistics were taken, none of them PENDING


async def test_claims_read_their_rows_through_the_primary_key_with_stale_statistics(
    api, sandbox, settings, monkeypatch
):
    if not settings.is_postgres:
        pytest.skip("planner statistics: PostgreSQL")
    app, channel, _ = await setup_channel(api, expo=0)
    sent = await send(api, app, channelId=channel["id"], title="plans")
    await wait_status(sent["id"], "COMPLETED")  # no subscribers: nothing is sent
    devices = [r["id"] for r in await Delivery.raw(
        "INSERT INTO devices (platform, token, active, created_at)"
        " SELECT 'EXPO', 'ExponentPushToken[plan' || g || ']', true, now() FROM generate_series(1, {})"
        " AS g RETURNING id", 2 * STALE,
    )]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # out of the sweep's way
    insert = (
        "INSERT INTO deliveries (notification, device, platform, status, attempts, next_attempt_at,"
        " created_at, updated_at, sent_at) SELECT {}, id, 'EXPO', {}, 0, CAST({} AS TIMESTAMPTZ), now(), now(),"
        " now() FROM devices WHERE id = ANY(CAST({} AS BIGINT[])) RETURNING id"
    )
    await Delivery.raw(insert, int(sent["id"]), "SENT", later, devices[:STALE])
    await Delivery.raw("ANALYZE deliveries")
    pending = [r["id"] for r in await Delivery.raw(insert, int(sent["id"]), "PENDING", later, devices[STALE:])]

    statements: list[tuple[str, tuple]] = []
    real = db.fetch_records

    async def recorded(sql: str, *args):
        if "lease_until" in sql:  # the claim's statements, not a periodic job's meanwhile
            statements.append((sql, args))
        return await real(sql, *args)

    monkeypatch.setattr(db, "fetch_records", recorded)
    now = dt.datetime.now(dt.UTC)
    batch = pending[:200]
    assert sorted(await ledger.claimable(batch, now)) == batch
    assert sorted(r["id"] for r in await ledger.claim(batch, now)) == batch
    monkeypatch.setattr(db, "fetch_records", real)
    assert len(statements) == 2

    plans = ["\n".join(r[0] for r in await real(f"EXPLAIN {sql}", *args)) for sql, args in statements]
    for plan in plans:
        assert "deliveries_pkey" in plan, plan
        assert "deliveries_status_next_attempt" not in plan, plan
