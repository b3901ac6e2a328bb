"""Writes provider outcomes to the ledger, in one statement per batch, and rolls notification
statuses forward: QUEUED -> SENT (nothing pending) -> COMPLETED (everything final)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from api import db, metrics
from api.devices.tables import Device
from api.notifications import events
from api.notifications.tables import Delivery, Notification
from api.providers.failures import (
    Outcome,
    PermanentDeviceFailure,
    ProviderFailure,
    TransientFailure,
)
from api.runtime import Runtime
from api.webhooks import events as webhook_events

LEASE = dt.timedelta(seconds=120)


@dataclass
class Change:
    delivery: dict  # the claimed row (id, notification, device, attempts, ...)
    status: str
    error: str | None = None
    ticket_id: str | None = None


def backoff(attempts: int, base: float, cap: float, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; never sooner than the provider's Retry-After."""
    delay = random.uniform(0, min(cap, base * 2 ** max(attempts - 1, 0)))
    return max(delay, retry_after or 0.0, base / 4)


def change_for(delivery: dict, outcome: Outcome, max_attempts: int) -> Change:
    if outcome.ok:
        return Change(delivery, "DELIVERED" if outcome.delivered else "SENT", ticket_id=outcome.ticket_id)
    return change_for_failure(delivery, outcome.failure, max_attempts)  # type: ignore[arg-type]


def change_for_failure(delivery: dict, failure: ProviderFailure, max_attempts: int) -> Change:
    if isinstance(failure, TransientFailure) and delivery["attempts"] + 1 < max_attempts:
        return Change(delivery, "PENDING", error=failure.code)
    return Change(delivery, "FAILED", error=failure.code)


async def claim(ids: Sequence[int], now: dt.datetime) -> list[dict]:
    """Lease PENDING deliveries to this sender. Of two tasks holding the same ids (a re-kick
    racing the original), only one gets each row, so a provider sees it once."""
    if not ids:
        return []
    return await Delivery.update({Delivery.lease_until: now + LEASE}).where(
        Delivery.id.is_in(list(ids))
        & (Delivery.status == "PENDING")
        & (Delivery.lease_until.is_null() | (Delivery.lease_until < now))
    ).returning(
        Delivery.id, Delivery.notification, Delivery.device, Delivery.attempts, Delivery.platform,
        Delivery.created_at,
    )


async def apply(
    runtime: Runtime,
    changes: list[Change],
    *,
    retry_at: dt.datetime | None,
    dead_devices: Iterable[tuple[int, str]] = (),
    count_attempt: bool = True,
) -> None:
    if not changes:
        return
    now = dt.datetime.now(dt.UTC)
    # PostgreSQL cannot infer a parameter's type inside CASE; SQLite has no timestamptz
    # type to cast to (CAST would turn the text into a number).
    retry_param = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    values = ", ".join("(CAST({} AS BIGINT), {}, {}, {})" for _ in changes)
    args: list = []
    for c in changes:
        args += [c.delivery["id"], c.status, c.error, c.ticket_id]
    dead = dict(dead_devices)
    apps_of_dead = await webhook_events.apps_of_devices(list(dead)) if dead else {}
    # One transaction: a delivery never reads FAILED with its dead device still active
    # (a fan-out in between would send to it again).
    async with db.transaction():
        await _write_changes(values, args, now, retry_param, retry_at, count_attempt)
        if dead:
            await mark_devices_dead(dead)
    _observe(changes, now, first_attempt=count_attempt)
    if dead:
        await webhook_events.devices_left(apps_of_dead, dead)
    await publish_changes(runtime, [c.delivery["id"] for c in changes])
    for nid in {c.delivery["notification"] for c in changes}:
        await refresh_status(nid)


async def _write_changes(values: str, args: list, now: dt.datetime, retry_param: str,
                         retry_at: dt.datetime | None, count_attempt: bool) -> None:
    await Delivery.raw(
        f"WITH v(id, status, error, ticket) AS (VALUES {values})"
        " UPDATE deliveries SET status = v.status, error = v.error,"
        " ticket_id = COALESCE(v.ticket, deliveries.ticket_id),"
        f" attempts = deliveries.attempts + {1 if count_attempt else 0}, lease_until = NULL,"
        " updated_at = {},"
        " sent_at = CASE WHEN v.status IN ('SENT', 'DELIVERED')"
        " THEN COALESCE(deliveries.sent_at, {}) ELSE deliveries.sent_at END,"
        f" next_attempt_at = CASE WHEN v.status = 'PENDING' THEN {retry_param} ELSE NULL END"
        " FROM v WHERE deliveries.id = v.id"
        # A retry never resurrects a delivery settled meanwhile (canceled while in flight).
        " AND (v.status <> 'PENDING' OR deliveries.status = 'PENDING')",
        *args, now, now, retry_at or now,
    )


def _observe(changes: list[Change], now: dt.datetime, *, first_attempt: bool) -> None:
    """Metrics: outcomes by provider, and the time from fan-out to provider acceptance."""
    for c in changes:
        provider = c.delivery.get("platform") or "UNKNOWN"
        metrics.DELIVERIES.labels(provider=provider, outcome=c.status).inc()
        created = c.delivery.get("created_at")
        if first_attempt and c.status in ("SENT", "DELIVERED") and isinstance(created, dt.datetime):
            metrics.DELIVERY_LATENCY.labels(provider=provider).observe((now - created).total_seconds())


async def mark_devices_dead(dead: dict[int, str]) -> None:
    """The provider said these tokens are gone: never send to them again."""
    by_reason: dict[str, list[int]] = {}
    for device_id, reason in dead.items():
        by_reason.setdefault(reason[:64], []).append(device_id)
    for reason, ids in by_reason.items():  # one statement per reason, not per device
        await Device.update({Device.active: False, Device.inactive_reason: reason}).where(
            Device.id.is_in(ids)
        )


def dead_devices_of(changes: Iterable[Change], failures: dict[int, ProviderFailure]) -> list[tuple[int, str]]:
    return [
        (c.delivery["device"], failures[c.delivery["id"]].code)
        for c in changes
        if isinstance(failures.get(c.delivery["id"]), PermanentDeviceFailure)
    ]


async def publish_changes(runtime: Runtime, delivery_ids: list[int]) -> None:
    rows = await Delivery.raw(
        "SELECT d.*, n.app AS app FROM deliveries d JOIN notifications n ON n.id = d.notification"
        " WHERE d.id IN (" + ", ".join("{}" for _ in delivery_ids) + ")",
        *delivery_ids,
    )
    by_app: dict[int, list[dict]] = {}
    for r in rows:
        if r["app"] is not None:
            by_app.setdefault(r["app"], []).append(events.to_event(_normalise(r)))
    for app_id, evs in by_app.items():
        await runtime.live.publish_many(events.app_deliveries_topic(app_id), evs)
    await webhook_events.deliveries_settled(rows)


def _normalise(row: dict) -> dict:
    row = dict(row)
    row.pop("app", None)
    for key in ("updated_at", "created_at", "sent_at", "next_attempt_at", "lease_until"):
        value = row.get(key)
        if isinstance(value, str):  # raw SQL on SQLite: no declared type to convert by
            row[key] = dt.datetime.fromisoformat(value)
    return row


async def refresh_status(notification_id: int) -> None:
    """Roll the notification forward. Two indexed EXISTS probes, whatever the fan-out size."""
    n = await Notification.select(Notification.status, Notification.fanout_done, Notification.sent_at).where(
        Notification.id == notification_id
    ).first()
    if n is None or not n["fanout_done"] or n["status"] not in ("QUEUED", "SENT"):
        return
    pending = await Delivery.exists().where(
        (Delivery.notification == notification_id) & (Delivery.status == "PENDING")
    )
    if pending:
        return
    awaiting_receipt = await Delivery.exists().where(
        (Delivery.notification == notification_id) & (Delivery.status == "SENT")
    )
    now = dt.datetime.now(dt.UTC)
    values = {Notification.status: "SENT" if awaiting_receipt else "COMPLETED"}
    if n["sent_at"] is None:
        values[Notification.sent_at] = now
    if not awaiting_receipt:
        values[Notification.completed_at] = now
    moved = await Notification.update(values).where(
        (Notification.id == notification_id) & Notification.status.is_in(["QUEUED", "SENT"])
    ).returning(Notification.app, Notification.status)
    if moved:
        all_failed = not awaiting_receipt and not await Delivery.exists().where(
            (Delivery.notification == notification_id) & (Delivery.status == "DELIVERED")
        ) and await Delivery.exists().where(Delivery.notification == notification_id)
        await webhook_events.notification_settled(
            moved[0]["app"], notification_id, moved[0]["status"],
            first_sent=n["sent_at"] is None, all_failed=all_failed,
        )
