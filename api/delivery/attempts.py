"""Attempt history: every provider outcome the ledger records (a send or an Expo receipt) is
one delivery_attempts row, the last ATTEMPTS_KEPT per delivery.

Written in the ledger's transaction from the same VALUES list as the delivery update (one
INSERT per batch, no per-row query); pruned only for the deliveries of a batch that can have
reached the bound, which with the default BOOPER_MAX_ATTEMPTS (5) never happens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api import db
from api.notifications.tables import DeliveryAttempt

ATTEMPTS_KEPT = 20


def insert_from_values(now: dt.datetime, *, receipt: bool) -> tuple[str, list]:
    """The INSERT of one attempt row per change, reading the changes from a `v(id, status, error,
    ticket)` defined before it (a WITH), and its arguments. A delivery deleted meanwhile (its
    notification deleted while in flight) gets no row."""
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    return (
        "INSERT INTO delivery_attempts (delivery, kind, status, error, ticket_id, attempted_at)"
        f" SELECT v.id, {{}}, v.status, v.error, v.ticket, {stamp} FROM v"
        " WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = v.id)",
        ["RECEIPT" if receipt else "SEND", now],
    )


async def record(values: str, args: list, now: dt.datetime, *, receipt: bool) -> None:
    """`values` yields (id, status, error, ticket) per change, as in ledger.apply (SQLite: on
    PostgreSQL the ledger's update carries this INSERT in its WITH, one statement)."""
    insert, insert_args = insert_from_values(now, receipt=receipt)
    await DeliveryAttempt.raw(f"WITH v(id, status, error, ticket) AS ({values}) {insert}", *args, *insert_args)


def may_overflow(attempts_before: int) -> bool:
    """A delivery with this many counted sends can hold ATTEMPTS_KEPT rows after this batch
    (its sends plus at most one receipt)."""
    return attempts_before + 2 > ATTEMPTS_KEPT


async def prune(delivery_ids: Sequence[int]) -> None:
    """Keeps the last ATTEMPTS_KEPT rows of these deliveries (an index range per delivery)."""
    if not delivery_ids:
        return
    marks = ", ".join("{}" for _ in delivery_ids)
    await DeliveryAttempt.raw(
        f"DELETE FROM delivery_attempts WHERE delivery IN ({marks}) AND id NOT IN ("
        " SELECT a.id FROM delivery_attempts a WHERE a.delivery = delivery_attempts.delivery"
        f" ORDER BY a.id DESC LIMIT {ATTEMPTS_KEPT})",
        *delivery_ids,
    )


async def attempts_of(delivery_ids: Sequence[int]) -> list[list[dict]]:
    """A DataLoader batch: each delivery's attempts, oldest first, in one query."""
    rows = await DeliveryAttempt.select().where(
        DeliveryAttempt.delivery.is_in(list(delivery_ids))
    ).order_by(DeliveryAttempt.id)
    db.parse_timestamps(rows, "attempted_at")
    by_delivery: dict[int, list[dict]] = {i: [] for i in delivery_ids}
    for r in rows:
        by_delivery[r["delivery"]].append(r)
    return [by_delivery[i] for i in delivery_ids]
