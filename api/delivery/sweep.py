"""The periodic sweep: why a lost task only delays a delivery (DESIGN.md, principle 1).

Every run: dispatches scheduled notifications that are due, re-kicks fan-outs
and deliveries whose task was lost (worker killed, in-process queue restarted,
Redis flushed), and settles notifications whose last status update was missed.
"""

from __future__ import annotations

import datetime as dt
import logging

from api import db
from api.delivery.ledger import refresh_status
from api.delivery.pipeline import kick_fan_outs, kick_sends
from api.engagement import gate, replacements
from api.notifications import service as notifications
from api.notifications.sending import dispatch
from api.notifications.tables import Delivery, Notification
from api.runtime import Runtime

log = logging.getLogger("booper.sweep")
BATCH = 500


async def dispatch_due(runtime: Runtime) -> int:
    """SCHEDULED -> QUEUED when due. The conditional update makes each notification go to one
    scheduler; on PostgreSQL, SKIP LOCKED lets several schedulers split the work without waiting."""
    now = dt.datetime.now(dt.UTC)
    lock = " FOR UPDATE SKIP LOCKED" if db.is_postgres(db.current_engine()) else ""
    async with db.transaction():
        due = await Notification.raw(
            "SELECT id FROM notifications WHERE status = 'SCHEDULED' AND send_at <= {}"
            f" ORDER BY send_at LIMIT {BATCH}{lock}",
            now,
        )
        if not due:
            return 0
        rows = await Notification.update({Notification.status: "QUEUED", Notification.kicked_at: now}).where(
            Notification.id.is_in([r["id"] for r in due]) & (Notification.status == "SCHEDULED")
        ).returning(Notification.id)
    for r in rows:
        row = await notifications.get(r["id"])
        if row is not None:
            await dispatch(runtime, row)
    return len(rows)


async def rekick_stalled(runtime: Runtime) -> tuple[int, int]:
    now = dt.datetime.now(dt.UTC)
    stalled_before = now - dt.timedelta(seconds=runtime.settings.stall_after)
    fanouts = await Notification.update({Notification.kicked_at: now}).where(
        (Notification.status == "QUEUED")
        & (Notification.fanout_done == False)  # noqa: E712 - Piccolo builds SQL from this
        & (Notification.kicked_at < stalled_before)
    ).returning(Notification.id)
    # priority=None: a BUSINESS app's work goes back to the priority queue it came from.
    await kick_fan_outs(runtime, [r["id"] for r in fanouts], priority=None)
    overdue = await Delivery.select(Delivery.id).where(
        (Delivery.status == "PENDING")
        & (Delivery.next_attempt_at < stalled_before)
        & (Delivery.lease_until.is_null() | (Delivery.lease_until < now))
    ).limit(BATCH * 10)
    deliveries = []
    if overdue:
        # Pushed forward so the next sweep does not kick them again while they queue.
        deliveries = await Delivery.update({Delivery.next_attempt_at: now}).where(
            Delivery.id.is_in([r["id"] for r in overdue]) & (Delivery.status == "PENDING")
        ).returning(Delivery.id, Delivery.platform)
        await kick_sends(runtime, deliveries, priority=None)
    if fanouts or deliveries:
        log.warning("sweep re-kicked %d fan-outs and %d deliveries", len(fanouts), len(deliveries))
    return len(fanouts), len(deliveries)


async def settle_statuses() -> None:
    """Notifications whose final status update was lost (a crash between two writes): fanned out
    and still QUEUED with no delivery left to send, or SENT with none left to send or to hear a
    receipt for. Those still waiting for a send or a receipt are not probed: the write that
    settles their last delivery rolls them forward. (Probing every QUEUED or SENT one, oldest
    first, had a sweep probe the same 500 notifications awaiting their receipts every period,
    three statements each, and never reach a newer one whose update was lost.)"""
    # One anti-join through the (notification, status) index, walking the in-flight notifications
    # by the status index: no ORDER BY (which could walk the whole table by id), and one EXISTS
    # (as an OR of two, PostgreSQL planned the SENT branch as a scan of deliveries per notification).
    rows = await Notification.raw(
        "SELECT n.id AS id FROM notifications n WHERE n.status IN ('QUEUED', 'SENT') AND n.fanout_done = TRUE"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification = n.id AND d.status IN"
        " ('PENDING', 'HELD', CASE WHEN n.status = 'SENT' THEN 'SENT' ELSE 'HELD' END))"
        f" LIMIT {BATCH}"
    )
    for r in rows:
        await refresh_status(r["id"])


async def sweep(runtime: Runtime) -> None:
    await dispatch_due(runtime)
    await rekick_stalled(runtime)
    await gate.release_due(runtime)  # HELD for quiet hours whose window has ended
    await replacements.rekick_stalled(runtime)  # edits and retractions whose replacement stalled
    await settle_statuses()
