"""Attempt history: every provider outcome the ledger records (a send or an Expo receipt), the
last ATTEMPTS_KEPT per delivery, oldest first.

A send the provider accepted is not written as a row: the delivery row already says it (sent_at
is set once, at the first accepted send; ticket_id; SENT, or DELIVERED without a receipt), and
nearly every delivery has no other outcome, so the history costs the send path nothing then.
What a row would have said is read back from the delivery (`attempts_of`). Failures, retries and
Expo receipts are rows, written in the ledger's transaction from the same VALUES list as the
delivery update (one INSERT per batch, no per-row query; none in a batch without them); pruned
only for the deliveries of a batch that can have reached the bound, which with the default
BOOPER_MAX_ATTEMPTS (5) never happens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api import db
from api.notifications.tables import Delivery, DeliveryAttempt

ATTEMPTS_KEPT = 20
ACCEPTED = ("SENT", "DELIVERED")


def stored(status: str, *, receipt: bool) -> bool:
    """Whether this outcome is written as a row (a send the provider accepted is not)."""
    return receipt or status not in ACCEPTED


def insert_from_values(now: dt.datetime, *, receipt: bool, written: str | None = None) -> tuple[str, list]:
    """The INSERT of one attempt row per change, reading the changes from a `v(id, status, error,
    ticket)` defined before it (a WITH), and its arguments. Sends the provider accepted get no
    row (see `stored`), nor does a delivery deleted meanwhile (its notification deleted while in
    flight). `written`: the name of the WITH's update (its RETURNING has `id`): only the rows
    it wrote get one (not a row another sender took over, nor one settled meanwhile)."""
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    accepted = "" if receipt else " AND v.status NOT IN (" + ", ".join(f"'{s}'" for s in ACCEPTED) + ")"
    source = (f"v JOIN {written} w ON w.id = v.id WHERE TRUE" if written
              else "v WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = v.id)")
    return (
        "INSERT INTO delivery_attempts (delivery, kind, status, error, ticket_id, attempted_at)"
        f" SELECT v.id, {{}}, v.status, v.error, v.ticket, {stamp} FROM {source}{accepted}",
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
    """A DataLoader batch: each delivery's attempts, oldest first, in two queries (the rows, and
    the deliveries' accepted sends, which have none)."""
    ids = list(delivery_ids)
    rows = await DeliveryAttempt.select().where(DeliveryAttempt.delivery.is_in(ids)).order_by(DeliveryAttempt.id)
    db.parse_timestamps(rows, "attempted_at")
    by_delivery: dict[int, list[dict]] = {i: [] for i in ids}
    for r in rows:
        by_delivery[r["delivery"]].append(r)
    accepted = await Delivery.select(Delivery.id, Delivery.status, Delivery.sent_at, Delivery.ticket_id).where(
        Delivery.id.is_in(ids) & Delivery.sent_at.is_not_null()
    )
    for d in db.parse_timestamps(accepted, "sent_at"):
        history = by_delivery[d["id"]]
        if any(a["kind"] == "SEND" and a["status"] in ACCEPTED for a in history):
            continue  # written by a release that still stored accepted sends
        history.append(_accepted_send(d, receipted=any(a["kind"] == "RECEIPT" for a in history)))
        history.sort(key=lambda a: (a["attempted_at"], a["kind"] == "RECEIPT"))
    return [by_delivery[i] for i in ids]


def _accepted_send(delivery: dict, *, receipted: bool) -> dict:
    """The attempt row an accepted send would have been: at sent_at, SENT (awaiting a receipt,
    or one came since) or DELIVERED (the provider said so at once: Web Push, FCM, APNs)."""
    status = "DELIVERED" if delivery["status"] == "DELIVERED" and not receipted else "SENT"
    return {"delivery": delivery["id"], "kind": "SEND", "status": status, "error": None,
            "ticket_id": delivery["ticket_id"], "attempted_at": delivery["sent_at"]}
