"""Writes provider outcomes to the ledger, in one statement per batch, and rolls notification
statuses forward: QUEUED -> SENT (nothing pending) -> COMPLETED (everything final)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from api import db, metrics
from api.delivery import attempts
from api.devices.tables import Device
from api.notifications import events
from api.notifications.tables import Delivery, Notification
from api.providers.failures import (
    Outcome,
    PermanentDeviceFailure,
    ProviderFailure,
    TransientFailure,
)
from api.runtime import Runtime, get_runtime
from api.webhooks import events as webhook_events
from api.webhooks import service as webhook_service

LEASE = dt.timedelta(seconds=120)
log = logging.getLogger("booper.ledger")


@dataclass
class Change:
    delivery: dict  # the claimed row (id, notification, device, attempts, ...)
    status: str
    error: str | None = None
    ticket_id: str | None = None


def change_for(delivery: dict, outcome: Outcome, max_attempts: int) -> Change:
    if outcome.ok:
        return Change(delivery, "DELIVERED" if outcome.delivered else "SENT", ticket_id=outcome.ticket_id)
    return change_for_failure(delivery, outcome.failure, max_attempts)  # type: ignore[arg-type]


def change_for_failure(delivery: dict, failure: ProviderFailure, max_attempts: int) -> Change:
    if isinstance(failure, TransientFailure) and delivery["attempts"] + 1 < max_attempts:
        return Change(delivery, "PENDING", error=failure.code)
    return Change(delivery, "FAILED", error=failure.code)


def ids_in(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column IN ids` for raw SQL. PostgreSQL gets one array parameter, not one per id: a
    thousand-id batch then costs one placeholder to build and one prepared statement to reuse."""
    if db.is_postgres(db.current_engine()):
        return f"{column} = ANY(CAST({{}} AS BIGINT[]))", [list(ids)]
    return f"{column} IN (" + ", ".join("{}" for _ in ids) + ")", list(ids)


def ids_among(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """As ids_in, for a condition checked on many rows read another way (a scan, an index on
    other columns): PostgreSQL takes the ids as a set (a hash, or an index probe per id). A
    prepared statement's `= ANY($1)` is planned generically after five runs, and then compares
    every row read with each of the thousand ids in turn (7 ms a batch over 18,000 deliveries)."""
    if db.is_postgres(db.current_engine()):
        return f"{column} IN (SELECT unnest(CAST({{}} AS BIGINT[])))", [list(ids)]
    return ids_in(column, ids)


def status_is(status: str, column: str = "status") -> str:
    """`column = status` as a filter on rows already found another way (by id, by person), never
    as an index condition: the partial status indexes (PENDING and HELD, SENT) looked small to
    the planner whenever the statistics were taken between fan-outs, and in the middle of one
    they hold every delivery not yet sent. A claim of 1,000 ids then read all of them, comparing
    each with the 1,000 ids: 45 against 0.8 ms a claim with 20,000 pending, one claim per batch."""
    return f"({column} = '{status}') IS TRUE"


async def claim(ids: Sequence[int], now: dt.datetime, lease: dt.timedelta = LEASE) -> list[dict]:
    """Lease PENDING deliveries to this sender. Of two tasks holding the same ids (a re-kick
    racing the original), only one gets each row, so a provider sees it once. The lease must
    outlast the send (senders wait for pacing before they claim); when a sender dies, its
    rows go back to the sweep once the lease has run out."""
    if not ids:
        return []
    where, args = _unleased(ids, now)
    rows = await raw(
        f"UPDATE deliveries SET lease_until = {_timestamp()} WHERE {where}"
        " RETURNING id, notification, device, attempts, platform, created_at, person, digest_count",
        now + lease, *args,
    )
    return db.parse_timestamps(rows, "created_at")


async def raw(sql: str, *args) -> list[dict]:
    """A statement of the send path (`{}` placeholders): on PostgreSQL straight through asyncpg
    (in the current transaction, if any), where Piccolo's result processing cost about 2 us per
    row of a thousand-row batch, and building even a one-row query about as much CPU as running
    it; on SQLite through Piccolo."""
    if db.is_postgres(db.current_engine()):
        return await db.fetch(db.numbered(sql), *args)
    return await Delivery.raw(sql, *args)


async def claimable(ids: Sequence[int], now: dt.datetime) -> list[int]:
    """Of these ids, the rows a sender could claim now (PENDING and not leased)."""
    if not ids:
        return []
    where, args = _unleased(ids, now)
    if db.is_postgres(db.current_engine()):
        return [r["id"] for r in await db.fetch_records(db.numbered(f"SELECT id FROM deliveries WHERE {where}"), *args)]
    rows = await Delivery.raw(f"SELECT id FROM deliveries WHERE {where}", *args)
    return [r["id"] for r in rows]


def _timestamp() -> str:
    return "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"


def _unleased(ids: Sequence[int], now: dt.datetime) -> tuple[str, list]:
    """The condition (and its arguments) of rows a sender may claim now: PENDING, not leased."""
    where, args = ids_in("id", ids)
    return f"{where} AND {status_is('PENDING')} AND (lease_until IS NULL OR lease_until < {_timestamp()})", [*args, now]


async def apply(
    runtime: Runtime,
    changes: list[Change],
    *,
    retry_at: dt.datetime | None,
    dead_devices: Iterable[tuple[int, str]] = (),
    count_attempt: bool = True,
    lease_until: dt.datetime | None = None,
    last_in_transaction: Callable[[list[dict]], Awaitable[None]] | None = None,
) -> list[dict]:
    """Write `changes` in one transaction; the delivery rows as written. `lease_until`, a
    sender's claim: only rows still under it are written (see senders.py), and what follows
    (attempt history, events, metrics) is of the rows written. `last_in_transaction(written)`
    runs as the transaction's last statement (what it reads is as of the commit, near enough)."""
    if not changes:
        return []
    now = dt.datetime.now(dt.UTC)
    # PostgreSQL cannot infer a parameter's type inside CASE; SQLite has no timestamptz
    # type to cast to (CAST would turn the text into a number).
    postgres = db.is_postgres(db.current_engine())
    retry_param = "CAST({} AS TIMESTAMPTZ)" if postgres else "{}"
    values, args = _values(changes, postgres)
    dead = dict(dead_devices)
    apps_of_dead = await webhook_events.apps_of_devices(list(dead)) if dead else {}
    notes = await _notification_states({c.delivery["notification"] for c in changes})
    app_of = {nid: n["app"] for nid, n in notes.items()}
    # One transaction: a delivery never reads FAILED with its dead device still active (a
    # fan-out in between would send to it again), and the webhook events commit with it.
    async with db.transaction():
        # PostgreSQL writes the attempt rows in the update's own statement (a data-modifying
        # WITH): the batch's arrays are sent and unpacked once, in one round trip.
        # Only outcomes the delivery row cannot tell (failures, retries, receipts) are rows.
        history = any(attempts.stored(c.status, receipt=not count_attempt) for c in changes)
        recorded = (attempts.insert_from_values(now, receipt=not count_attempt, written="u")
                    if postgres and history else None)
        written = _with_apps(
            await _write_changes(values, args, now, retry_param, retry_at, count_attempt, recorded, lease_until),
            app_of,
        )
        if len(written) < len(changes):
            done = {r["id"] for r in written}
            changes = [c for c in changes if c.delivery["id"] in done]
        if history and not postgres and changes:
            await attempts.record(*_values(changes, postgres), now, receipt=not count_attempt)
        await attempts.prune([c.delivery["id"] for c in changes if attempts.may_overflow(c.delivery["attempts"])])
        if dead:
            await mark_devices_dead(dead)
        hooks = await webhook_service.record_for(
            {r["app"] for r in written if r["app"] is not None} | {a for apps in apps_of_dead.values() for a in apps},
            lambda with_hooks: webhook_events.devices_left(apps_of_dead, dead)
            + webhook_events.delivery_events(written, with_hooks),
        )
        if last_in_transaction:
            await last_in_transaction(written)
    _observe(changes, now, first_attempt=count_attempt)
    try:
        if dead:  # open streams of the dead devices end now, not at their next periodic check
            await runtime.live.access_changed(*(f"device:{d}" for d in dead))
        await webhook_service.kick(runtime, hooks)
        await publish_changes(runtime, written)
        for nid, n in notes.items():
            await _refresh(runtime, nid, n)
    except Exception:  # noqa: BLE001 - the outcomes are committed; see below
        # Whatever fails after the commit must not look like a failed record (a caller would
        # write the outcomes twice): webhooks due and statuses are picked up by periodic jobs.
        log.exception("outcomes recorded; notifying and status roll-forward left to the sweep")
    return written


def _values(changes: list[Change], postgres: bool) -> tuple[str, list]:
    """The changes as rows `(id, status, error, ticket)` for a WITH, and their arguments."""
    if postgres:  # four array parameters, whatever the batch size (see ids_in)
        return (
            "SELECT * FROM unnest(CAST({} AS BIGINT[]), CAST({} AS TEXT[]),"
            " CAST({} AS TEXT[]), CAST({} AS TEXT[]))"
        ), [[c.delivery["id"] for c in changes], [c.status for c in changes],
            [c.error for c in changes], [c.ticket_id for c in changes]]
    args: list = []
    for c in changes:
        args += [c.delivery["id"], c.status, c.error, c.ticket_id]
    return "VALUES " + ", ".join("(CAST({} AS BIGINT), {}, {}, {})" for _ in changes), args


# What the rows as written feed (live delivery events, webhooks): a column more is a value more
# to decode per delivery on the send path.
_WRITTEN = ", ".join(f"deliveries.{c}" for c in (
    "id", "notification", "device", "status", "error", "ticket_id", "attempts", "updated_at"))


async def _write_changes(values: str, args: list, now: dt.datetime, retry_param: str,
                         retry_at: dt.datetime | None, count_attempt: bool,
                         recorded: tuple[str, list] | None = None,
                         lease_until: dt.datetime | None = None) -> list[dict]:
    """The rows as written (RETURNING), so live and webhook events need no second read.
    `recorded`: a statement (and its arguments) reading `v` and the rows written, `u`, to run
    in the same WITH. `lease_until`: only rows whose claim still carries this stamp (a sender's own)."""
    ours, ours_args = (f" AND deliveries.lease_until = {_timestamp()}", [lease_until]) if lease_until else ("", [])
    update = (
        "UPDATE deliveries SET status = v.status, error = v.error,"
        " ticket_id = COALESCE(v.ticket, deliveries.ticket_id),"
        f" attempts = deliveries.attempts + {1 if count_attempt else 0}, lease_until = NULL,"
        " updated_at = {},"
        " sent_at = CASE WHEN v.status IN ('SENT', 'DELIVERED')"
        " THEN COALESCE(deliveries.sent_at, {}) ELSE deliveries.sent_at END,"
        f" next_attempt_at = CASE WHEN v.status = 'PENDING' THEN {retry_param} ELSE NULL END"
        " FROM v WHERE deliveries.id = v.id"
        # A retry never resurrects a delivery settled meanwhile (canceled while in flight).
        " AND (v.status <> 'PENDING' OR deliveries.status = 'PENDING')"
        f"{ours} RETURNING {_WRITTEN}"
    )
    update_args = [now, now, retry_at or now, *ours_args]
    if recorded:
        return await raw(
            f"WITH v(id, status, error, ticket) AS ({values}), u AS ({update}), recorded AS ({recorded[0]})"
            " SELECT * FROM u",
            *args, *update_args, *recorded[1],
        )
    return await raw(f"WITH v(id, status, error, ticket) AS ({values}) {update}", *args, *update_args)


def _observe(changes: list[Change], now: dt.datetime, *, first_attempt: bool) -> None:
    """Metrics: outcomes by provider, and the time from fan-out to provider acceptance."""
    counts: dict[tuple[str, str], int] = {}
    latencies: dict[str, list[float]] = {}
    for c in changes:
        provider = c.delivery.get("platform") or "UNKNOWN"
        counts[provider, c.status] = counts.get((provider, c.status), 0) + 1
        created = c.delivery.get("created_at")
        if first_attempt and c.status in ("SENT", "DELIVERED") and isinstance(created, dt.datetime):
            latencies.setdefault(provider, []).append((now - created).total_seconds())
    # One label lookup per (provider, outcome), not per delivery.
    for (provider, outcome), n in counts.items():
        metrics.DELIVERIES.labels(provider=provider, outcome=outcome).inc(n)
    for provider, seconds in latencies.items():
        histogram = metrics.DELIVERY_LATENCY.labels(provider=provider)
        for value in seconds:
            histogram.observe(value)


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


async def publish_changes(runtime: Runtime, rows: list[dict]) -> None:
    """Live events for delivery rows just written (each with its notification's `app`), for the
    apps whose live deliveries someone watches (api/live/presence.py, Watchers): while nobody
    does, a send batch builds and publishes none of its thousand events."""
    watchers = runtime.live.watchers
    watched = {app: await watchers.watched(events.app_deliveries_topic(app))
               for app in {r["app"] for r in rows if r["app"] is not None}}
    by_app: dict[int, list[dict]] = {}
    for r in rows:
        if watched.get(r["app"]):
            # What a Delivery answers from (api/notifications/types.py), nothing more: one
            # event per delivery, so every field and timestamp conversion counts at 100k.
            updated = r["updated_at"]
            by_app.setdefault(r["app"], []).append({
                "id": r["id"], "notification": r["notification"], "device": r["device"], "status": r["status"],
                "attempts": r["attempts"], "error": r["error"], "ticket_id": r["ticket_id"],
                "updated_at": updated.isoformat() if isinstance(updated, dt.datetime) else updated,
            })
    for app_id, evs in by_app.items():
        await runtime.live.publish_many(events.app_deliveries_topic(app_id), evs)


async def settled(runtime: Runtime, rows: list[dict]) -> None:
    """Deliveries settled outside a sender (SKIPPED when read elsewhere, already written):
    their live events, and their notifications rolled forward."""
    notes = await _notification_states({r["notification"] for r in rows})
    written = _with_apps(rows, {nid: n["app"] for nid, n in notes.items()})
    await publish_changes(runtime, written)
    for nid, n in notes.items():
        await _refresh(runtime, nid, n)


def _with_apps(rows: list[dict], app_of: dict[int, int | None]) -> list[dict]:
    db.parse_timestamps(rows, "updated_at", "created_at", "sent_at", "next_attempt_at", "lease_until")
    for r in rows:
        r["app"] = app_of.get(r["notification"])
    return rows


async def _notification_states(ids: Iterable[int]) -> dict[int, dict]:
    ids = list(ids)
    rows = await Notification.select(
        Notification.id, Notification.app, Notification.status, Notification.fanout_done, Notification.sent_at
    ).where(Notification.id.is_in(ids))
    return {r["id"]: r for r in rows}


async def refresh_status(notification_id: int) -> None:
    """Roll the notification forward. Two indexed EXISTS probes, whatever the fan-out size."""
    n = await Notification.select(Notification.status, Notification.fanout_done, Notification.sent_at).where(
        Notification.id == notification_id
    ).first()
    if n is not None:
        await _refresh(get_runtime(), notification_id, n)


async def _refresh(runtime: Runtime, notification_id: int, n: dict) -> None:
    if not n["fanout_done"] or n["status"] not in ("QUEUED", "SENT"):
        return
    probe = await Delivery.raw(
        "SELECT EXISTS (SELECT 1 FROM deliveries WHERE notification = {} AND status IN ('PENDING', 'HELD'))"
        " AS pending,"
        " EXISTS (SELECT 1 FROM deliveries WHERE notification = {} AND status = 'SENT') AS sent",
        notification_id, notification_id,
    )
    if probe[0]["pending"]:
        return
    awaiting_receipt = bool(probe[0]["sent"])
    status = "SENT" if awaiting_receipt else "COMPLETED"
    if status == n["status"]:
        return
    now = dt.datetime.now(dt.UTC)
    values = {Notification.status: status}
    if n["sent_at"] is None:
        values[Notification.sent_at] = now
    if not awaiting_receipt:
        values[Notification.completed_at] = now
    # Compare-and-set on the status that was read: of two refreshers racing on the same
    # notification (a fan-out and a send task), one moves it and only that one records events.
    async with db.transaction():
        moved = await Notification.update(values).where(
            (Notification.id == notification_id) & (Notification.status == n["status"])
        ).returning(Notification.app, Notification.status)
        if not moved:
            return
        all_failed = not awaiting_receipt and not await Delivery.exists().where(
            (Delivery.notification == notification_id) & (Delivery.status == "DELIVERED")
        ) and await Delivery.exists().where(Delivery.notification == notification_id)
        hooks = await webhook_service.record(webhook_events.notification_events(
            moved[0]["app"], notification_id, moved[0]["status"],
            first_sent=n["sent_at"] is None, all_failed=all_failed,
        ))
    await webhook_service.kick(runtime, hooks)
