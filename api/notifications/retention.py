"""Retention by plan: archive (out of device inboxes, still visible to the owner), then delete
with their deliveries. FREE 7/30 days, PRO 30/100, BUSINESS never. Devices not seen for
BOOPER_DEVICE_STALE_DAYS are deactivated (api/devices/staleness.py).

Deletes go in small batches, deliveries first, so no statement holds locks on a
large fan-out's rows for long; anonymous public-channel notifications follow FREE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api.apps import plans
from api.apps.tables import App
from api.notifications.tables import Delivery, Notification
from api.settings import Settings

BATCH = 1000


@dataclass
class RetentionResult:
    archived: int = 0
    deleted: int = 0
    deliveries_deleted: int = 0
    devices_deactivated: int = 0


def _of_plan(plan: str):
    apps = App.select(App.id).where(App.plan == plan)
    clause = Notification.app.is_in(apps)
    if plan == "FREE":
        clause = clause | Notification.app.is_null()
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
    return result


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
