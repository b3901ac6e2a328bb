"""Apps and API keys: create, list, delete, revoke; usage figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api import allowances, db, validation
from api.access import Viewer
from api.apps import keycache
from api.apps.tables import ApiKey, App
from api.channels.tables import Channel, ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant
from api.errors import NotFound, Unauthenticated
from api.live.guard import access_changed
from api.notifications.tables import DailyUsage, Delivery
from api.security import hash_api_key, new_api_key


async def create_app(owner_id: int, name: str, *, most: int) -> tuple[dict, dict, str]:
    """The app and its first key; QUOTA_EXCEEDED when the owner already holds `most` apps."""
    name = validation.display_name(name, "app name")
    secret, prefix, secret_hash = new_api_key()
    async with db.transaction():
        await allowances.hold_app(owner_id, most)
        app = (await App.insert(App(owner=owner_id, name=name)).returning(*App.all_columns()))[0]
        key = (
            await ApiKey.insert(ApiKey(app=app["id"], prefix=prefix, secret_hash=secret_hash))
            .returning(*ApiKey.all_columns())
        )[0]
    return app, key, secret


async def create_api_key(app_id: int, *, most: int) -> tuple[dict, str]:
    """A new key; QUOTA_EXCEEDED when the app already holds `most` live (unrevoked) keys."""
    secret, prefix, secret_hash = new_api_key()
    async with db.transaction():
        await allowances.hold_api_key(app_id, most)
        key = (
            await ApiKey.insert(ApiKey(app=app_id, prefix=prefix, secret_hash=secret_hash))
            .returning(*ApiKey.all_columns())
        )[0]
    return key, secret


async def revoke_api_key(key_id: int, owner_id: int) -> dict:
    key = await ApiKey.select(*ApiKey.all_columns()).where(ApiKey.id == key_id).first()
    if key is None or not await App.exists().where((App.id == key["app"]) & (App.owner == owner_id)):
        raise NotFound("API key not found")
    if key["revoked_at"] is None:
        now = dt.datetime.now(dt.UTC)
        await ApiKey.update({ApiKey.revoked_at: now}).where(ApiKey.id == key_id)
        await allowances.forget_old_revoked_keys(key["app"])
        key["revoked_at"] = now
        keycache.forget(key["secret_hash"])
        await access_changed(f"app:{key['app']}")
    return key


async def rename_app(app_id: int, name: str) -> dict:
    name = validation.display_name(name, "app name")
    rows = await App.update({App.name: name}).where(App.id == app_id).returning(*App.all_columns())
    if not rows:
        raise NotFound("app not found")
    keycache.forget()  # cached key lookups carry the app's row
    return rows[0]


async def delete_app(app_id: int) -> None:
    # Foreign keys cascade: keys, channels, subscriptions, grants, codes, notifications, deliveries.
    await App.delete().where(App.id == app_id)
    keycache.forget()
    await access_changed(f"app:{app_id}")


async def apps_of_user(user_id: int) -> list[dict]:
    return await App.select().where(App.owner == user_id).order_by(App.id)


async def apps_of_device(device_id: int) -> list[dict]:
    """Apps a device has been granted, or follows a channel of."""
    granted = DeviceAccessGrant.select(DeviceAccessGrant.app).where(
        DeviceAccessGrant.device == device_id
    )
    followed = Channel.select(Channel.app).where(
        Channel.id.is_in(
            ChannelSubscription.select(ChannelSubscription.channel).where(
                ChannelSubscription.device == device_id
            )
        )
        & Channel.app.is_not_null()
    )
    return await App.select().where(App.id.is_in(granted) | App.id.is_in(followed)).order_by(App.id)


async def api_keys(app_id: int) -> list[dict]:
    return await ApiKey.select(*ApiKey.all_columns()).where(ApiKey.app == app_id).order_by(ApiKey.id)


# Batched forms for GraphQL's per-request DataLoaders (api/graphql/loaders.py): one statement
# for every app of a response, whatever the number of apps in it.


async def apps_by_ids(ids: Sequence[int]) -> list[dict | None]:
    rows = {r["id"]: r for r in await App.select().where(App.id.is_in(list(ids)))}
    return [rows.get(i) for i in ids]


async def api_keys_of_apps(app_ids: Sequence[int]) -> list[list[dict]]:
    keys: dict[int, list[dict]] = {i: [] for i in app_ids}
    rows = await ApiKey.select(*ApiKey.all_columns()).where(ApiKey.app.is_in(list(app_ids))).order_by(ApiKey.id)
    for r in rows:
        keys[r["app"]].append(r)
    return [keys[i] for i in app_ids]


async def notifications_today_of_apps(app_ids: Sequence[int]) -> list[int]:
    from api.notifications import usage

    await usage.flush()  # this process's counts of unlimited apps, not yet written
    today = dt.datetime.now(dt.UTC).date()
    rows = await DailyUsage.select(DailyUsage.app, DailyUsage.count).where(
        DailyUsage.app.is_in(list(app_ids)) & (DailyUsage.day == today)
    )
    counts = {r["app"]: r["count"] for r in rows}
    return [counts.get(i, 0) for i in app_ids]


async def active_devices_of_apps(app_ids: Sequence[int]) -> list[int]:
    rows = await Device.raw(
        "SELECT c.app AS app, COUNT(DISTINCT s.device) AS n FROM channel_subscriptions s"
        " JOIN channels c ON c.id = s.channel JOIN devices d ON d.id = s.device"
        " WHERE d.active = {} AND c.app IN (" + ", ".join("{}" for _ in app_ids) + ") GROUP BY c.app",
        True,
        *app_ids,
    )
    counts = {r["app"]: int(r["n"]) for r in rows}
    return [counts.get(i, 0) for i in app_ids]


async def delivery_counts_of_apps(app_ids: Sequence[int]) -> list[dict[str, int]]:
    rows = await Delivery.raw(
        "SELECT n.app AS app, d.status AS status, COUNT(*) AS n, COUNT(d.opened_at) AS opened FROM deliveries d"
        " JOIN notifications n ON n.id = d.notification WHERE n.app IN ("
        + ", ".join("{}" for _ in app_ids)
        + ") GROUP BY n.app, d.status",
        *app_ids,
    )
    counts: dict[int, dict[str, int]] = {}
    for r in rows:
        found = counts.setdefault(r["app"], {})
        found[r["status"]] = int(r["n"])
        found["OPENED"] = found.get("OPENED", 0) + int(r["opened"])  # DeliveryCounts.opened
    return [counts.get(i, {}) for i in app_ids]


async def notifications_today(app_id: int) -> int:
    from api.notifications import usage

    await usage.flush()  # this process's counts of unlimited apps, not yet written
    today = dt.datetime.now(dt.UTC).date()
    row = await DailyUsage.select(DailyUsage.count).where(
        (DailyUsage.app == app_id) & (DailyUsage.day == today)
    ).first()
    return row["count"] if row else 0


async def active_devices(app_id: int) -> int:
    return await Device.count().where(
        (Device.active == True)  # noqa: E712 - Piccolo builds SQL from this comparison
        & Device.id.is_in(
            ChannelSubscription.select(ChannelSubscription.device).where(
                ChannelSubscription.channel.is_in(Channel.select(Channel.id).where(Channel.app == app_id))
            )
        )
    )


async def delivery_counts_for_app(app_id: int) -> dict[str, int]:
    rows = await Delivery.raw(
        "SELECT d.status AS status, COUNT(*) AS n FROM deliveries d"
        " JOIN notifications n ON n.id = d.notification WHERE n.app = {} GROUP BY d.status",
        app_id,
    )
    return {r["status"]: int(r["n"]) for r in rows}


async def delivery_buckets(app_id: int, hours: int) -> list[dict]:
    """Deliveries of the last `hours` hours by hour of their last change and status."""
    since = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(
        hours=hours - 1
    )
    hour = (
        "to_char(date_trunc('hour', d.updated_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24')"
        if db.is_postgres(db.current_engine())
        else "strftime('%Y-%m-%d %H', d.updated_at)"
    )
    rows = await Delivery.raw(
        f"SELECT {hour} AS hour, d.status AS status, COUNT(*) AS n FROM deliveries d"
        " JOIN notifications n ON n.id = d.notification"
        " WHERE n.app = {} AND d.updated_at >= {} GROUP BY 1, 2",
        app_id,
        since,
    )
    buckets = {
        (since + dt.timedelta(hours=i)).strftime("%Y-%m-%d %H"): {
            "start": since + dt.timedelta(hours=i),
            "sent": 0,
            "delivered": 0,
            "failed": 0,
            "opened": 0,
        }
        for i in range(hours)
    }
    for r in rows:
        bucket = buckets.get(r["hour"])
        key = {"SENT": "sent", "DELIVERED": "delivered", "FAILED": "failed"}.get(r["status"])
        if bucket is not None and key:
            bucket[key] += int(r["n"])
    # Opens by the hour they happened (markOpened), not by the delivery's last change.
    for r in await Delivery.raw(
        f"SELECT {hour.replace('updated_at', 'opened_at')} AS hour, COUNT(*) AS n FROM deliveries d"
        " JOIN notifications n ON n.id = d.notification WHERE n.app = {} AND d.opened_at >= {} GROUP BY 1",
        app_id, since,
    ):
        if (bucket := buckets.get(r["hour"])) is not None:
            bucket["opened"] = int(r["n"])
    return list(buckets.values())


async def set_plan(app_id: int, plan: str) -> dict:
    rows = await App.update({App.plan: plan}).where(App.id == app_id).returning(*App.all_columns())
    keycache.forget()  # cached keys carry their app's plan
    if not rows:
        raise NotFound("app not found")
    return rows[0]



# lastUsedAt is refreshed at most this often per key, so the hot send path does
# not write a row on every request.
LAST_USED_GRANULARITY = dt.timedelta(seconds=60)


async def viewer_for_key(secret: str) -> Viewer | Unauthenticated:
    """The app behind an API key secret (cached for keycache.TTL seconds), or why not."""
    digest = hash_api_key(secret)
    cached = keycache.get(digest)
    if cached is not None:
        return cached
    rows = await ApiKey.raw(
        "SELECT k.id AS id, k.app AS app, k.revoked_at AS revoked_at, k.last_used_at AS last_used_at,"
        " a.plan AS plan FROM api_keys k JOIN apps a ON a.id = k.app WHERE k.secret_hash = {}",
        digest,
    )
    row = db.parse_timestamps(rows, "revoked_at", "last_used_at")[0] if rows else None
    if row is None or row["revoked_at"] is not None:
        return Unauthenticated("invalid or revoked API key")
    now = dt.datetime.now(dt.UTC)
    last_used = row["last_used_at"]
    if last_used is None or now - last_used > LAST_USED_GRANULARITY:
        await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == row["id"])
    viewer = Viewer("key", app_id=row["app"], key_id=row["id"], plan=row["plan"])
    keycache.put(digest, viewer)
    return viewer
