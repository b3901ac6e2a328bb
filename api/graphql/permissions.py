"""The one permission layer: who may see or change what.

Every resolver asks here; nothing else decides. The answer is an Access that
travels with the objects a resolver returns, so nested fields (App.apiKeys,
Notification.deliveryCounts, Device.identifier) know how they were reached.

Objects the viewer may not see are NOT_FOUND, exactly like objects that do not
exist, so ids cannot be probed. FORBIDDEN is for the wrong kind of caller
(an API key managing keys, a device joining a private channel without a grant).
"""

from __future__ import annotations

__all__ = ["PUBLIC", "Access"]  # re-exported: resolvers say perms.Access

from api.access import PUBLIC, Access, Viewer
from api.apps.tables import App
from api.channels.tables import Channel, ChannelSubscription
from api.devices.keys import hash_device_key
from api.devices.staleness import seen
from api.devices.tables import Device, DeviceAccessGrant
from api.errors import Forbidden, NotFound, Unauthenticated
from api.graphql.context import Info
from api.graphql.text import UNSTORABLE
from api.ids import parse_id


async def viewer(info: Info) -> Viewer:
    return await info.context.viewer()


async def require_user(info: Info) -> int:
    v = await viewer(info)
    if v.kind == "user":
        return v.user_id  # type: ignore[return-value]
    if v.kind == "key":
        raise Forbidden("this operation needs a dashboard user, not an API key")
    raise Unauthenticated("log in first")


async def app_admin(info: Info, app_id: str | int, *, owner_only: bool = False) -> tuple[dict, Access]:
    """The app row and the caller's admin access to it: its owner, or (unless owner_only) its key."""
    v = await viewer(info)
    if v.is_anonymous:
        raise Unauthenticated("an API key or a dashboard login is needed")
    aid = parse_id(app_id, "app")
    if v.kind == "key":
        if owner_only:
            raise Forbidden("this operation needs the app's owner, not an API key")
        if v.app_id != aid:
            raise NotFound("app not found")
        row = await App.select().where(App.id == aid).first()
        if row is None:
            raise NotFound("app not found")
        return row, Access("key", app_id=aid)
    row = await App.select().where((App.id == aid) & (App.owner == v.user_id)).first()
    if row is None:
        raise NotFound("app not found")
    return row, Access("owner", app_id=aid, user_id=v.user_id)


async def implied_app_admin(info: Info, app_id: str | int | None) -> tuple[dict, Access] | None:
    """The app an operation is about: the given id, else the API key's own app, else none."""
    if app_id is not None:
        return await app_admin(info, app_id)
    v = await viewer(info)
    if v.kind == "key":
        return await app_admin(info, v.app_id)  # type: ignore[arg-type]
    return None


async def admin_access_for_app(info: Info, app_id: int | None) -> Access | None:
    """Admin access to an app the caller may or may not administer, without raising."""
    if app_id is None:
        return None
    v = await viewer(info)
    if v.kind == "key" and v.app_id == app_id:
        return Access("key", app_id=app_id)
    if v.kind == "user":
        owned = await App.exists().where((App.id == app_id) & (App.owner == v.user_id))
        if owned:
            return Access("owner", app_id=app_id, user_id=v.user_id)
    return None


async def device_for_token(token: str | None) -> dict | None:
    """A registered device by its push token; None for unknown tokens (callers decide)."""
    # No registered token is this long or holds text a database cannot store (WebSocket
    # operations reach here without the HTTP path's check in api/graphql/text.py).
    if not token or len(token) > 2048 or UNSTORABLE.search(token):
        return None
    return await Device.select().where(Device.token == token).first()


NEEDS_DEVICE_KEY = (
    "this operation needs the device's key: send X-Device-Key (deviceKey in connection_init);"
    " a lost key is recovered with requestDeviceVerification"
)


async def device_for_key(key: str | None) -> dict | None:
    """The device a device key belongs to, or None."""
    if not key or len(key) > 256 or UNSTORABLE.search(key):
        return None
    return await Device.select().where(Device.key_hash == hash_device_key(key)).first()


async def authenticated_device(info: Info, token: str) -> dict:
    """The device named by `token`, proven by the caller's device key.

    The token is only an address: without the key that belongs to it, the caller is not the
    device. UNAUTHENTICATED either way (no key, a wrong key, a key of another device, an unknown
    token), checked before anything else, so a token alone reveals nothing."""
    key = info.context.device_key()
    if key is None:
        raise Unauthenticated(NEEDS_DEVICE_KEY)
    device = await device_for_key(key)
    if device is None or device["token"] != token.strip():
        raise Unauthenticated("this device key does not belong to that device token")
    await seen(device)  # a device call keeps it from going stale (at most one write an hour)
    return device


async def optional_device(info: Info, token: str | None) -> dict | None:
    """A device proven by its key when a token is given with the right key; None without a key.
    For operations where a device adds rights (a private channel it was granted) but public
    data needs nothing."""
    if token is None or info.context.device_key() is None:
        return None
    return await authenticated_device(info, token)


async def device_granted(device_id: int, channel_id: int) -> bool:
    return await DeviceAccessGrant.exists().where(
        (DeviceAccessGrant.device == device_id) & (DeviceAccessGrant.channel == channel_id)
    )


async def channel_access(info: Info, channel: dict, device: dict | None = None) -> Access | None:
    """How the caller may see a channel: admin of its app, a granted device, or public."""
    admin = await admin_access_for_app(info, channel["app"])
    if admin is not None:
        return admin
    if device is not None:
        if channel["visibility"] == "PUBLIC" or await device_granted(device["id"], channel["id"]):
            return Access("device", device_id=device["id"])
        return None
    return PUBLIC if channel["visibility"] == "PUBLIC" else None


async def visible_channel(info: Info, channel_id: str | int) -> tuple[dict, Access]:
    cid = parse_id(channel_id, "channel")
    row = await Channel.select().where(Channel.id == cid).first()
    access = await channel_access(info, row) if row is not None else None
    if row is None or access is None:
        raise NotFound("channel not found")
    return row, access


async def require_credentials(info: Info) -> Viewer:
    """A dashboard user or an API key. Checked before any lookup, so that callers without
    credentials learn nothing about which ids exist."""
    v = await viewer(info)
    if v.is_anonymous:
        raise Unauthenticated("an API key or a dashboard login is needed")
    return v


async def administered_channel(
    info: Info, channel_id: str | int, *, hidden_from_others: bool = False
) -> tuple[dict, Access]:
    """A channel the caller administers (its app's owner or key).

    Others get NOT_FOUND for what they cannot see (a private channel, or anything when
    `hidden_from_others`), FORBIDDEN for a public channel they can see but not change."""
    await require_credentials(info)
    cid = parse_id(channel_id, "channel")
    row = await Channel.select().where(Channel.id == cid).first()
    if row is None:
        raise NotFound("channel not found")
    access = await admin_access_for_app(info, row["app"])
    if access is None:
        if hidden_from_others or row["visibility"] == "PRIVATE":
            raise NotFound("channel not found")
        raise Forbidden("only the channel's app may do this")
    return row, access


async def administered_subscription(
    info: Info, subscription_id: str | int
) -> tuple[dict, dict, Access]:
    """A subscription and its channel, for the channel's app. Subscriptions are only ever shown
    to that app (Query.subscribers), so to anyone else they do not exist: NOT_FOUND."""
    await require_credentials(info)
    sid = parse_id(subscription_id, "subscription")
    sub = await ChannelSubscription.select().where(ChannelSubscription.id == sid).first()
    if sub is None:
        raise NotFound("subscription not found")
    try:
        channel, access = await administered_channel(info, sub["channel"], hidden_from_others=True)
    except NotFound:
        raise NotFound("subscription not found") from None
    return sub, channel, access
