"""Accept, cancel and list notifications; read marks; delivery counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from api import db
from api.errors import Conflict, QuotaExceeded, channel_must_exist
from api.notifications import targets, usage
from api.notifications.draft import Draft
from api.notifications.rows import NotificationRow
from api.notifications.tables import DailyUsage, Delivery, Notification

INBOX_HIDDEN = ("SCHEDULED", "CANCELED", "RETRACTED")


class _Duplicate(Exception):
    """Raised inside the transaction to roll back the quota unit of an idempotent repeat."""


async def find_idempotent(scope: str, key: str) -> NotificationRow | None:
    return await Notification.select().where(
        (Notification.idempotency_scope == scope) & (Notification.idempotency_key == key)
    ).first()


async def accept(
    draft: Draft, app_id: int | None, scope: str, charged_app: int | None, daily_quota: int | None,
    now: dt.datetime,
) -> tuple[NotificationRow, bool]:
    """Write the notification, its direct targets, and take one unit of `charged_app`'s daily
    quota, in one transaction.

    Returns (row, created). An idempotent repeat returns the first row and takes no quota.
    """
    if draft.idempotency_key and (existing := await find_idempotent(scope, draft.idempotency_key)):
        return _loaded(existing), False
    fields = draft.row_fields(app_id, scope, now, anonymous=charged_app is None)
    if daily_quota is None and not draft.direct:
        # Nothing to enforce: one statement, and the app's count goes through usage.count
        # (no lock on its usage row per send; see api/notifications/usage.py).
        rows = await (_insert_pg(fields) if db.is_postgres(db.current_engine()) else _insert(fields))
        if not rows:
            return await _repeat(scope, draft.idempotency_key), False
        if charged_app is not None:
            usage.count(charged_app, now.date())
        return _loaded(rows[0]), True
    try:
        async with db.transaction():
            rows = await _insert(fields)
            if not rows:
                raise _Duplicate
            await targets.record(rows[0]["id"], app_id, draft.identifiers, draft.device_ids)
            # After the insert: the usage row is locked only from here to the commit,
            # so an app's concurrent sends queue on it as briefly as possible.
            if charged_app is not None:
                if daily_quota is None:
                    usage.count(charged_app, now.date())
                else:
                    await take_quota(charged_app, now.date(), daily_quota)
    except _Duplicate:
        return await _repeat(scope, draft.idempotency_key), False
    return _loaded(rows[0]), True


async def _insert(fields: dict[str, Any]) -> list[NotificationRow]:
    """The notification row, or nothing when its idempotency key was taken."""
    with channel_must_exist():
        return await (
            Notification.insert(Notification(**fields))
            .on_conflict(action="DO NOTHING")
            .returning(*Notification.all_columns())
        )


_INSERT_PG = (
    "INSERT INTO notifications (app, channel, title, body, data, priority, collapse_key, ttl, status, send_at,"
    " created_at, kicked_at, idempotency_scope, idempotency_key, critical, presentation, sent_at, completed_at,"
    " archived_at, fanout_cursor, fanout_done, anonymous) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12, $13, $14, $15, $16, NULL, NULL, NULL, 0, false, $17) ON CONFLICT DO NOTHING RETURNING *"
)


async def _insert_pg(fields: dict[str, Any]) -> list[NotificationRow]:
    """_insert as one prepared statement (the send path's most frequent write)."""
    import orjson

    data, shown = fields["data"], fields["presentation"]
    with channel_must_exist():
        return await db.fetch(
            _INSERT_PG, fields["app"], fields["channel"], fields["title"], fields["body"],
            None if data is None else orjson.dumps(data).decode(), fields["priority"], fields["collapse_key"],
            fields["ttl"], fields["status"], fields["send_at"], fields["created_at"], fields["kicked_at"],
            fields["idempotency_scope"], fields["idempotency_key"], fields["critical"],
            None if shown is None else orjson.dumps(shown).decode(), fields["anonymous"],
        )


async def _repeat(scope: str, key: str | None) -> NotificationRow:
    """The row an idempotent repeat refers to."""
    existing = await find_idempotent(scope, key)  # type: ignore[arg-type]
    if existing is None:
        raise Conflict("a concurrent request with this idempotencyKey failed; retry")
    return _loaded(existing)


async def take_quota(app_id: int, day: dt.date, quota: int | None) -> None:
    """One atomic upsert: of two racing requests only one can take the last unit."""
    if quota is None:
        where = ""
        args: tuple = (app_id, day)
    else:
        where = " WHERE daily_usage.count < {}"
        args = (app_id, day, quota)
    rows = await DailyUsage.raw(
        "INSERT INTO daily_usage (app, day, count) VALUES ({}, {}, 1)"
        " ON CONFLICT (app, day) DO UPDATE SET count = daily_usage.count + 1"
        + where
        + " RETURNING count",
        *args,
    )
    if not rows:
        raise QuotaExceeded(f"the app's daily quota of {quota} notifications is used up; it resets at 00:00 UTC")


def _loaded(row: dict) -> dict:
    """JSON columns come back as text from Piccolo; the API works with the value."""
    import orjson

    for column in ("data", "presentation"):
        if isinstance(row.get(column), str | bytes):
            row[column] = orjson.loads(row[column])
    return row


async def get(notification_id: int) -> dict | None:
    row = await Notification.select().where(Notification.id == notification_id).first()
    return _loaded(row) if row else None


async def get_many(ids: Sequence[int]) -> list[dict | None]:
    if db.is_postgres(db.current_engine()):  # a send batch's notes: one prepared statement, no query to build
        found = await db.fetch("SELECT * FROM notifications WHERE id = ANY($1::bigint[])", list(ids))
    else:
        found = await Notification.select().where(Notification.id.is_in(list(ids)))
    rows = {r["id"]: _loaded(r) for r in found}
    return [rows.get(i) for i in ids]


async def cancel(row: dict) -> dict:
    """SCHEDULED: never sent. QUEUED/SENT: pending and held deliveries stop (FAILED, 'Canceled')."""
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        updated = await Notification.update(
            {Notification.status: "CANCELED", Notification.completed_at: now}
        ).where(
            (Notification.id == row["id"]) & Notification.status.is_in(["SCHEDULED", "QUEUED", "SENT"])
        ).returning(*Notification.all_columns())
        if not updated:
            raise Conflict(f"a {row['status']} notification cannot be canceled")
        await Delivery.update(
            {Delivery.status: "FAILED", Delivery.error: "Canceled", Delivery.updated_at: now}
        ).where((Delivery.notification == row["id"]) & Delivery.status.is_in(["PENDING", "HELD"]))
    return _loaded(updated[0])


async def page(
    *,
    first: int,
    before_id: int | None,
    app_id: int | None = None,
    channel_ids: Sequence[int] | None = None,
    inbox: bool = False,
    status: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    device_id: int | None = None,
) -> list[dict]:
    """`device_id`: a device's inbox, its `channel_ids` and the direct sends to it or its persons."""
    query = Notification.select()
    if status is not None:
        query = query.where(Notification.status == status)
    if since is not None:
        query = query.where(Notification.created_at >= since)
    if until is not None:
        query = query.where(Notification.created_at < until)
    if app_id is not None:
        query = query.where(Notification.app == app_id)
    if device_id is not None:
        query = query.where(targets.visible_to_device(device_id, list(channel_ids or ())))
    elif channel_ids is not None:
        if not channel_ids:
            return []
        query = query.where(Notification.channel.is_in(list(channel_ids)))
    if inbox:
        query = query.where(
            Notification.status.not_in(list(INBOX_HIDDEN)) & Notification.archived_at.is_null()
        )
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    rows = await query.order_by(Notification.id, ascending=False).limit(first + 1)
    return [_loaded(r) for r in rows]


async def in_inbox(device_id: int, notification_id: int) -> dict | None:
    """The notification if the device sees it in its inbox."""
    row = await Notification.select().where(
        (Notification.id == notification_id)
        & targets.visible_to_device(device_id, None)
        & Notification.status.not_in(list(INBOX_HIDDEN))
    ).first()
    return _loaded(row) if row else None


async def delivery_counts(notification_ids: Sequence[int]) -> list[dict[str, int]]:
    rows = await Delivery.raw(
        "SELECT notification, status, COUNT(*) AS n, COUNT(opened_at) AS opened FROM deliveries"
        " WHERE notification IN (" + ", ".join("{}" for _ in notification_ids) + ") GROUP BY notification, status",
        *notification_ids,
    )
    counts: dict[int, dict[str, int]] = {}
    for r in rows:
        found = counts.setdefault(r["notification"], {})
        found[r["status"]] = int(r["n"])
        found["OPENED"] = found.get("OPENED", 0) + int(r["opened"])
    return [counts.get(i, {}) for i in notification_ids]


async def delivery_reasons(notification_ids: Sequence[int]) -> list[list[tuple[str, str, int]]]:
    """Per notification: (status, reason, count) of its HELD and SKIPPED deliveries, one
    statement for a page of notifications."""
    rows = await Delivery.raw(
        "SELECT notification, status, reason, COUNT(*) AS n FROM deliveries WHERE notification IN ("
        + ", ".join("{}" for _ in notification_ids)
        + ") AND status IN ('HELD', 'SKIPPED') GROUP BY notification, status, reason",
        *notification_ids,
    )
    found: dict[int, list[tuple[str, str, int]]] = {}
    for r in rows:
        found.setdefault(r["notification"], []).append((r["status"], r["reason"] or "", int(r["n"])))
    return [sorted(found.get(i, []), key=lambda t: (t[0], -t[2], t[1])) for i in notification_ids]


async def deliveries_page(notification_id: int, first: int, before_id: int | None) -> list[dict]:
    query = Delivery.select().where(Delivery.notification == notification_id)
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    return await query.order_by(Delivery.id, ascending=False).limit(first + 1)
