"""Retention by plan: archive (out of device inboxes, still visible to the owner), then delete
with their deliveries. FREE 7/30 days, PRO 30/100, BUSINESS never. Devices not seen for
BOOPER_DEVICE_STALE_DAYS are deactivated (api/devices/staleness.py).

Deletes go in small batches, deliveries first, so no statement holds locks on a
large fan-out's rows for long; anonymous notifications (sent without credentials to a public
channel, of the global namespace or of an app) follow FREE whatever the app's plan: strangers
could otherwise grow a BUSINESS app's history without end.

Public channels of the global namespace are made by anyone's first send or subscribe to a new
name: one that no device follows and that holds no notification (its last one deleted by the
FREE retention) for ABANDONED_AFTER_DAYS is deleted, so that names made once and never used
again do not pile up. Its name is free again; a later use makes a new channel (ids are never
reused), and a stream still open on the old one is told.

Webhook events that were delivered or failed, and access codes that were redeemed or expired,
are deleted after LEDGER_DAYS: both were kept for ever (a subscribe loop on any app's public
channel writes that app a device.registered event per turn; an app creates 30 codes a minute).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api import db
from api.apps import plans
from api.apps.tables import App
from api.channels.tables import Channel
from api.notifications.tables import Delivery, Notification
from api.settings import Settings

BATCH = 1000
ABANDONED_AFTER_DAYS = 30
LEDGER_DAYS = 30  # delivered or failed webhook events, redeemed or expired access codes: kept this long


@dataclass
class RetentionResult:
    archived: int = 0
    deleted: int = 0
    deliveries_deleted: int = 0
    devices_deactivated: int = 0
    public_channels_deleted: int = 0
    webhook_events_deleted: int = 0
    access_codes_deleted: int = 0


def _of_plan(plan: str):
    apps = App.select(App.id).where(App.plan == plan)
    clause = Notification.app.is_in(apps)
    if plan == "FREE":  # and sends without credentials, to any app's public channel
        clause = clause | Notification.app.is_null() | Notification.anonymous.eq(True)
    return clause


async def apply_retention(settings: Settings, now: dt.datetime | None = None) -> RetentionResult:
    from api.devices.staleness import deactivate_stale
    from api.runtime import get_runtime

    now = now or dt.datetime.now(dt.UTC)
    result = RetentionResult()
    result.devices_deactivated = await deactivate_stale(get_runtime(), settings.device_stale_days, now)
    for plan in plans.PLANS:
        limits = plans.limits_for(plan, settings)
        if limits.archive_after_days is not None:
            result.archived += await _archive(plan, now - dt.timedelta(days=limits.archive_after_days), now)
        if limits.delete_after_days is not None:
            deleted, deliveries = await _delete(plan, now - dt.timedelta(days=limits.delete_after_days))
            result.deleted += deleted
            result.deliveries_deleted += deliveries
    result.public_channels_deleted = await _delete_abandoned_public_channels(
        now - dt.timedelta(days=ABANDONED_AFTER_DAYS))
    before = now - dt.timedelta(days=LEDGER_DAYS)
    result.webhook_events_deleted = await _delete_in_batches(
        "webhook_events", "status IN ('DELIVERED', 'FAILED') AND created_at < {}", before)
    result.access_codes_deleted = await _delete_in_batches(
        "access_codes", "(redeemed_at < {} OR (redeemed_at IS NULL AND expires_at < {}))", before, before)
    return result


async def _delete_in_batches(table: str, where: str, *args) -> int:
    total = 0
    while True:
        rows = await Channel.raw(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {where} LIMIT {BATCH}) RETURNING id",
            *args,
        )
        total += len(rows)
        if len(rows) < BATCH:
            return total


async def _delete_abandoned_public_channels(before: dt.datetime) -> int:
    from api.channels.service import GLOBAL_NAMESPACE
    from api.live.guard import access_changed

    abandoned = (
        "c.namespace = {} AND c.app IS NULL AND c.created_at < {}"
        " AND NOT EXISTS (SELECT 1 FROM channel_subscriptions s WHERE s.channel = c.id)"
        " AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.channel = c.id)"
    )
    total, after = 0, 0
    while True:
        if db.is_postgres(db.current_engine()):
            # Locked first, skipping any a subscribe or send holds (its foreign-key check locks
            # the row until it commits); then deleted by a statement that looks again, with what
            # committed meanwhile. Walked by id: the channels kept are not read again.
            async with db.transaction():
                ids = [r["id"] for r in await Channel.raw(
                    f"SELECT c.id FROM channels c WHERE c.id > {{}} AND {abandoned}"
                    f" ORDER BY c.id LIMIT {BATCH} FOR UPDATE SKIP LOCKED",
                    after, GLOBAL_NAMESPACE, before,
                )]
                if not ids:
                    break
                after = ids[-1]
                rows = await Channel.raw(
                    f"DELETE FROM channels c WHERE c.id = ANY(CAST({{}} AS BIGINT[])) AND {abandoned} RETURNING c.id",
                    ids, GLOBAL_NAMESPACE, before,
                )
        else:  # one statement in SQLite's write transaction: no writer runs beside it
            rows = await Channel.raw(
                f"DELETE FROM channels WHERE id IN (SELECT c.id FROM channels c WHERE {abandoned} LIMIT {BATCH})"
                " RETURNING id",
                GLOBAL_NAMESPACE, before,
            )
            if not rows:
                break
        total += len(rows)
        if rows:
            await access_changed(*(f"channel:{r['id']}" for r in rows))
    return total


async def _archive(plan: str, before: dt.datetime, now: dt.datetime) -> int:
    total = 0
    while True:
        ids = [r["id"] for r in await Notification.select(Notification.id).where(
            _of_plan(plan) & Notification.archived_at.is_null() & (Notification.created_at < before)
        ).limit(BATCH)]
        if not ids:
            return total
        await Notification.update({Notification.archived_at: now}).where(Notification.id.is_in(ids))
        total += len(ids)


async def _delete(plan: str, before: dt.datetime) -> tuple[int, int]:
    notifications = deliveries = 0
    while True:
        ids = [r["id"] for r in await Notification.select(Notification.id).where(
            _of_plan(plan) & (Notification.created_at < before)
        ).limit(BATCH)]
        if not ids:
            return notifications, deliveries
        while True:
            batch = [r["id"] for r in await Delivery.select(Delivery.id).where(
                Delivery.notification.is_in(ids)
            ).limit(BATCH * 5)]
            if not batch:
                break
            await Delivery.delete().where(Delivery.id.is_in(batch))
            deliveries += len(batch)
        await Notification.delete().where(Notification.id.is_in(ids))
        notifications += len(ids)
