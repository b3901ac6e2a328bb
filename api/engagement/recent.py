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
from api.notifications.tables import Notification


async def active_since(column: Literal["app", "channel"], key: int, since: dt.datetime, *, limit: int,
                       leave_out: Sequence[int] = ()) -> int:
    """Notifications of this app or channel (but `leave_out`) not completed before `since`, not
    scheduled: at most `limit`."""
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    others, other_args = "", []
    if leave_out:
        where, other_args = ledger.ids_in("id", list(leave_out))
        others = f" AND NOT ({where})"
    rows = await Notification.raw(
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM notifications WHERE {column} = {{}} AND status <> 'SCHEDULED'"
        f" AND (completed_at IS NULL OR completed_at >= {stamp}){others} LIMIT {int(limit)}) AS recent",
        key, since, *other_args,
    )
    return int(rows[0]["n"])
