"""How many notifications of an app (or a channel) may have pushed anything since a moment: a
bound that lets the digest and cap checks skip reading deliveries when it settles the question.

A notification has pushed since `since` only if it was not already completed then: every one of
its deliveries is final by its completed_at (COMPLETED, CANCELED, RETRACTED), so a delivery sent,
pending or HELD after `since` belongs to a notification with no completed_at or a later one.
Scheduled ones have pushed nothing. Counted through (app, completed_at) and (channel,
completed_at) indexes, and never past `limit`: the cost is bounded by what the caller needs to know.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from api import db
from api.delivery import ledger


async def active_since(column: Literal["app", "channel"], key: int, since: dt.datetime, *, limit: int,
                       leave_out: Sequence[int] = ()) -> int:
    """Notifications of this app or channel (but `leave_out`) not completed before `since`, not
    scheduled: at most `limit`."""
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    others, other_args = "", []
    if leave_out:
        where, other_args = ledger.ids_in("id", list(leave_out))
        others = f" AND NOT ({where})"
    # Not yet completed, and completed since: two ranges of the (column, completed_at) index, each
    # read only until `limit` rows. As one OR, PostgreSQL read both ranges whole into a bitmap
    # first (198,000 notifications in flight for the app after a burst: 10 ms a send batch).
    # The app or channel is written into the statement (an int), not bound: a prepared statement's
    # generic plan, made after five runs, guesses an average app or channel for `= $1`, and with
    # a LIMIT expected a quick match in a scan of the table. A quiet channel beside one with
    # 195,000 notifications then read all of them, 60 ms a send batch of a digest channel.
    owner = f"{column} = {int(key)}"
    rows = await ledger.raw(
        "SELECT COUNT(*) AS n FROM ("
        f"SELECT 1 AS x FROM (SELECT 1 AS x FROM notifications WHERE {owner} AND completed_at IS NULL"
        f" AND status <> 'SCHEDULED'{others} LIMIT {int(limit)}) AS running"
        f" UNION ALL SELECT 1 AS x FROM (SELECT 1 AS x FROM notifications WHERE {owner}"
        f" AND completed_at >= {stamp} AND status <> 'SCHEDULED'{others} LIMIT {int(limit)}) AS completed) AS recent",
        *other_args, since, *other_args,
    )
    return min(int(rows[0]["n"]), limit)
