"""Channels and subscriptions: create, find, subscribe, page through subscribers."""

from __future__ import annotations

from collections.abc import Sequence

from api import allowances, db, validation
from api.access import Access
from api.channels.tables import Channel, ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant
from api.errors import Conflict, Forbidden, NotFound, channel_must_exist
from api.live.guard import access_changed
from api.ttlcache import TtlCache
from api.webhooks import events as webhook_events

GLOBAL_NAMESPACE = 0


async def create_channel(app_id: int, name: str, visibility: str, *, most: int) -> dict:
    """CONFLICT for a name the app already has, QUOTA_EXCEEDED when it holds `most` channels."""
    name = validation.channel_name(name)
    async with db.transaction():
        await allowances.hold_channel(app_id, name, most)
        rows = (
            await Channel.insert(Channel(app=app_id, namespace=app_id, name=name, visibility=visibility))
            .on_conflict(action="DO NOTHING")
            .returning(*Channel.all_columns())
        )
    if not rows:
        raise Conflict(f"the app already has a channel named {name!r}")
    return rows[0]


async def delete_channel(channel_id: int) -> None:
    await Channel.delete().where(Channel.id == channel_id)
    forget_cached()  # rare; other processes' entries expire within APP_CHANNEL_TTL
    await access_changed(f"channel:{channel_id}")


# An app's channels by name, for its API key's sends (the hot path). A channel's app, name and
# visibility never change, so an entry can only go stale by the channel's deletion: a send
# within APP_CHANNEL_TTL of it, from another process, finds no row to refer to and is refused
# NOT_FOUND by the insert (service.accept), as it would have been by the lookup.
APP_CHANNEL_TTL = 2.0
_app_channels = TtlCache(APP_CHANNEL_TTL)


def forget_cached() -> None:
    _app_channels.forget()


async def app_channel_by_name(app_id: int, name: str) -> dict | None:
    row = _app_channels.get((app_id, name))
    if row is None:
        row = await by_name(app_id, name)
        if row is not None:
            _app_channels.put((app_id, name), row)
    return row


async def by_name(namespace: int, name: str) -> dict | None:
    """On every send by name: raw SQL, since building the Piccolo query cost more than running it."""
    rows = await Channel.raw(
        "SELECT id, app, namespace, name, visibility, created_at, critical, digest_window FROM channels"
        " WHERE namespace = {} AND name = {} LIMIT 1",
        namespace, name,
    )
    if not rows:
        return None
    return db.parse_timestamps(rows, "created_at")[0]


async def public_channel(name: str, *, create: bool) -> dict | None:
    """A channel of the global namespace, created on first use when `create` (ntfy-style)."""
    name = validation.channel_name(name)
    if create:
        await Channel.insert(
            Channel(app=None, namespace=GLOBAL_NAMESPACE, name=name, visibility="PUBLIC")
        ).on_conflict(action="DO NOTHING")
    return await by_name(GLOBAL_NAMESPACE, name)


async def channels_of_app_for(app_id: int, access: Access) -> list[dict]:
    return (await channels_of_apps_for([(app_id, access)]))[0]


async def channels_of_apps_for(keys: Sequence[tuple[int, Access]]) -> list[list[dict]]:
    """(app id, access) -> the app's channels that access may see; one statement per kind of access
    (a response's App.channels reached the same way: one query, not one per app)."""
    found: dict[tuple[int, Access], list[dict]] = {k: [] for k in keys}
    groups: dict[tuple[Access, bool], list[int]] = {}
    for app_id, access in found:
        groups.setdefault((access, access.administers(app_id)), []).append(app_id)
    for (access, administers), app_ids in groups.items():
        for row in await _visible_channels(app_ids, access, administers):
            found[(row["app"], access)].append(row)
    return [found[k] for k in keys]


async def _visible_channels(app_ids: list[int], access: Access, administers: bool) -> list[dict]:
    query = Channel.select().where(Channel.app.is_in(app_ids))
    if administers:
        pass
    elif access.role == "device":
        granted = DeviceAccessGrant.select(DeviceAccessGrant.channel).where(
            DeviceAccessGrant.device == access.device_id
        )
        query = query.where((Channel.visibility == "PUBLIC") | Channel.id.is_in(granted))
    else:
        query = query.where(Channel.visibility == "PUBLIC")
    return await query.order_by(Channel.id)


async def channels_of_apps(app_ids: Sequence[int]) -> list[dict]:
    return await Channel.select().where(Channel.app.is_in(list(app_ids))).order_by(Channel.id)


async def channels_of_device(device_id: int, app_id: int | None = None) -> list[dict]:
    """The channels the device follows: its subscriptions, a private channel only while the device
    holds its grant (a subscription left without one by a race with a withdrawal counts for
    nothing, on a stream or in a list)."""
    subscribed = ChannelSubscription.select(ChannelSubscription.channel).where(
        ChannelSubscription.device == device_id
    )
    granted = DeviceAccessGrant.select(DeviceAccessGrant.channel).where(DeviceAccessGrant.device == device_id)
    query = Channel.select().where(
        Channel.id.is_in(subscribed) & ((Channel.visibility == "PUBLIC") | Channel.id.is_in(granted))
    )
    if app_id is not None:
        query = query.where(Channel.app == app_id)
    return await query.order_by(Channel.id)


async def subscription_count(device_id: int) -> int:
    return await ChannelSubscription.count().where(ChannelSubscription.device == device_id)


NOT_ITS_APP = "this device is registered with another app: it can only join that app's channels"


async def subscribe(device_id: int, channel: dict, *, most: int) -> dict:
    """Idempotent: subscribing twice returns the first subscription. QUOTA_EXCEEDED when the
    device already follows `most` channels (api/allowances.py)."""
    device = await Device.select(Device.app).where(Device.id == device_id).first()
    if device is not None and device["app"] is not None and device["app"] != channel["app"]:
        # An FCM or APNs token is of one app: another app's credentials cannot send to it.
        raise Forbidden(NOT_ITS_APP)
    async with db.transaction():
        # The grant is read and kept (FOR SHARE on PostgreSQL; SQLite's write transaction holds
        # every writer off) until the subscription is written: a withdrawal deletes the grant
        # first and then its subscriptions, so it either finds this one or leaves no grant to find.
        # The device's row first (the allowance's count), then the grant: one order for all.
        await allowances.hold_subscriptions(device_id, [channel["id"]], most)
        if channel["visibility"] == "PRIVATE" and not await _grant_held(device_id, channel["id"]):
            raise Forbidden("this channel is private: redeem an access code first")
        with channel_must_exist():
            added = await ChannelSubscription.insert(
                ChannelSubscription(channel=channel["id"], device=device_id)
            ).on_conflict(action="DO NOTHING").returning(ChannelSubscription.id)
    if added:
        await access_changed(f"device:{device_id}", granted=True)  # its open streams listen to the channel
        await webhook_events.device_joined(device_id, channel["app"])
    row = await ChannelSubscription.select().where(
        (ChannelSubscription.channel == channel["id"]) & (ChannelSubscription.device == device_id)
    ).first()
    if row is None:  # the channel was deleted between the check and the insert
        raise NotFound("channel not found")
    return row


async def _grant_held(device_id: int, channel_id: int) -> bool:
    rows = await DeviceAccessGrant.raw(
        f"SELECT id FROM device_access_grants WHERE device = {{}} AND channel = {{}}{db.row_lock('FOR SHARE')}",
        device_id, channel_id,
    )
    return bool(rows)


async def unsubscribe(device_id: int, channel_id: int) -> bool:
    removed = await ChannelSubscription.delete().where(
        (ChannelSubscription.channel == channel_id) & (ChannelSubscription.device == device_id)
    ).returning(ChannelSubscription.id)
    if removed:
        await access_changed(f"device:{device_id}")
    return bool(removed)


async def subscription(subscription_id: int) -> dict | None:
    return await ChannelSubscription.select().where(ChannelSubscription.id == subscription_id).first()


async def delete_subscription(sub: dict, channel: dict) -> None:
    """The app removes a device; from a private channel this also withdraws its access."""
    async with db.transaction():
        if channel["visibility"] == "PRIVATE":  # the grant first: see subscribe
            await DeviceAccessGrant.delete().where(
                (DeviceAccessGrant.device == sub["device"])
                & (DeviceAccessGrant.channel == channel["id"])
            )
        await ChannelSubscription.delete().where(ChannelSubscription.id == sub["id"])
    await access_changed(f"device:{sub['device']}")


async def subscriber_counts(channel_ids: Sequence[int]) -> list[int]:
    rows = await ChannelSubscription.raw(
        "SELECT channel, COUNT(*) AS n FROM channel_subscriptions WHERE channel IN ("
        + ", ".join("{}" for _ in channel_ids)
        + ") GROUP BY channel",
        *channel_ids,
    )
    counts = {r["channel"]: int(r["n"]) for r in rows}
    return [counts.get(cid, 0) for cid in channel_ids]


async def channels_by_ids(ids: Sequence[int]) -> list[dict | None]:
    rows = {r["id"]: r for r in await Channel.select().where(Channel.id.is_in(list(ids)))}
    return [rows.get(i) for i in ids]


async def subscribers_page(channel_id: int, first: int, before_id: int | None) -> list[dict]:
    query = ChannelSubscription.select().where(ChannelSubscription.channel == channel_id)
    if before_id is not None:
        query = query.where(ChannelSubscription.id < before_id)
    return await query.order_by(ChannelSubscription.id, ascending=False).limit(first + 1)
