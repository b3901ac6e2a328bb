"""Devices nobody has seen for BOOPER_DEVICE_STALE_DAYS are deactivated (reason "Stale"): their
tokens are most likely dead at the push service, and every send to them is wasted work.

Seen = registered, refreshed, or made a call as itself (with its device key). That last one is on
every device request, so it writes at most once per SEEN_EVERY per device: the column answers
"within the last hour or so", never "this second", and a busy device costs one write an hour.
"""

from __future__ import annotations

import datetime as dt

from api.devices.tables import Device

SEEN_EVERY = dt.timedelta(hours=1)
BATCH = 1000


async def seen(device: dict, now: dt.datetime | None = None) -> None:
    """Record that the device made a call, if the last record is older than SEEN_EVERY."""
    now = now or dt.datetime.now(dt.UTC)
    last = device.get("last_seen_at")
    if last is not None and now - last < SEEN_EVERY:
        return
    # Conditional: of concurrent calls, at most one writes.
    stale = Device.last_seen_at.is_null() | (Device.last_seen_at < now - SEEN_EVERY)
    await Device.update({Device.last_seen_at: now}).where((Device.id == device["id"]) & stale)
    device["last_seen_at"] = now


async def deactivate_stale(runtime, days: int, now: dt.datetime | None = None) -> int:
    """Deactivate active devices last seen (or, never seen, created) before now - days, in
    batches; device.unregistered (reason Stale) goes to the apps they were in. Returns how many."""
    from api.webhooks import events as webhook_events
    from api.webhooks import service as webhook_service

    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=days)
    old = (Device.last_seen_at < cutoff) | (Device.last_seen_at.is_null() & (Device.created_at < cutoff))
    total = 0
    while True:
        ids = [r["id"] for r in await Device.select(Device.id).where(Device.active.eq(True) & old).limit(BATCH)]
        if not ids:
            return total
        apps = await webhook_events.apps_of_devices(ids)
        done = await Device.update({Device.active: False, Device.inactive_reason: "Stale"}).where(
            Device.id.is_in(ids) & Device.active.eq(True) & old
        ).returning(Device.id)
        gone = {r["id"] for r in done}
        if gone:  # their open streams end now
            await runtime.live.access_changed(*(f"device:{d}" for d in gone))
        await webhook_service.emit(runtime, webhook_events.devices_left(
            {d: a for d, a in apps.items() if d in gone}, dict.fromkeys(gone, "Stale")
        ))
        total += len(gone)
