"""Device registration: validate tokens and Web Push subscriptions before anything is written."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from api import db
from api.channels.tables import ChannelSubscription
from api.devices.keys import hash_device_key, new_device_key
from api.devices.tables import Device, DeviceAccessGrant, DeviceSupplier
from api.errors import BadUserInput
from api.live.guard import access_changed
from api.notifications.tables import ReadMark
from api.people.tables import PersonDevice

EXPO_TOKEN = re.compile(r"^Expo(nent)?PushToken\[[A-Za-z0-9_\-:.=+/]{1,200}\]$")
MAX_ENDPOINT = 2048


FCM_TOKEN = re.compile(r"^[A-Za-z0-9_\-:.]{20,1024}$")
APNS_TOKEN = re.compile(r"^[0-9a-fA-F]{64,200}$")


def validate_native_token(platform: str, token: str) -> str:
    """FCM registration tokens (base64url-ish with ':') and APNs device tokens (hex; stored lower-case)."""
    if platform == "APNS":
        if not APNS_TOKEN.match(token):
            raise BadUserInput("not an APNs device token: expected 64 or more hexadecimal characters")
        return token.lower()
    if not FCM_TOKEN.match(token):
        raise BadUserInput("not an FCM registration token")
    return token


def validate_expo_token(token: str) -> str:
    if not EXPO_TOKEN.match(token):
        raise BadUserInput("not an Expo push token: expected ExponentPushToken[...] or ExpoPushToken[...]")
    return token


# A DNS name: what push services use. Anything else in the host (backslashes, percent escapes,
# whitespace) is parsed differently by different URL parsers, so an allow-list match on it
# would not mean the request goes there.
HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
UNSAFE_URL_CHARS = re.compile(r"[\s\\\x00-\x1f\x7f]")


def origin_of(url: str) -> tuple[str, str, int]:
    if UNSAFE_URL_CHARS.search(url):
        raise BadUserInput("a Web Push endpoint must not contain whitespace or backslashes")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUserInput("a Web Push endpoint must be an absolute https URL")
    if not HOSTNAME.match(parts.hostname):
        raise BadUserInput("a Web Push endpoint must name its push service by a DNS name")
    if parts.username or parts.password:
        raise BadUserInput("a Web Push endpoint must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadUserInput("a Web Push endpoint has an invalid port") from None
    return parts.scheme, parts.hostname.lower(), port


def origin_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    """Exact origins, or `https://*.example.com` for any subdomain of example.com."""
    scheme, host, port = origin_of(url)
    for pattern in allowed:
        p_scheme, _, p_rest = pattern.partition("://")
        p_host, _, p_port = p_rest.partition(":")
        p_port_num = int(p_port) if p_port.isdigit() else (443 if p_scheme == "https" else 80)
        if p_scheme != scheme or p_port_num != port:
            continue
        p_host = p_host.lower()
        if p_host.startswith("*."):
            if host.endswith(p_host[1:]) and host != p_host[2:]:
                return True
        elif host == p_host:
            return True
    return False


def validate_web_subscription(endpoint: str, p256dh: str | None, auth: str | None, allowed: tuple[str, ...]) -> None:
    # Imported here: the provider package is a leaf that the domain calls into.
    from api.providers.webpush import validate_subscription_keys

    if len(endpoint) > MAX_ENDPOINT:
        raise BadUserInput(f"a Web Push endpoint may have at most {MAX_ENDPOINT} characters")
    if not origin_allowed(endpoint, allowed):
        raise BadUserInput(
            "a Web Push endpoint must be an https URL on a known push service"
            " (see BOOPER_WEBPUSH_ALLOWED_ORIGINS)"
        )
    if p256dh is None or auth is None:
        raise BadUserInput("WEB devices need webPushKeys {p256dh, auth} from the browser's subscription")
    try:
        validate_subscription_keys(p256dh, auth)
    except ValueError as exc:
        raise BadUserInput(f"invalid webPushKeys: {exc}") from None


class TokenTaken(Exception):
    """The token is registered to a device the caller has not proven to be."""


async def register(
    platform: str,
    token: str,
    p256dh: str | None,
    auth: str | None,
    *,
    presented_key: str | None = None,
    supplier_app: int | None = None,
    app: int | None = None,
) -> tuple[dict, str]:
    """Create the device, or refresh it, and return it with its device key.

    A token already registered is only refreshed for a caller that proves to be that device:
    its device key, or the app that supplied the token (its API key). An inactive device
    (unregistered, or dead by its provider's word) was emptied and may be taken again, emptied
    once more. Anyone else gets TokenTaken: the token is an address, not a credential, and
    knowing it must not hand over the device (requestDeviceVerification is the way back)."""
    now = dt.datetime.now(dt.UTC)
    for _ in range(3):
        existing = await Device.select().where((Device.token == token) & (Device.platform == platform)).first()
        if existing is None:
            secret, key_hash = new_device_key()
            rows = (
                await Device.insert(
                    Device(
                        platform=platform, token=token, p256dh=p256dh, auth=auth, last_seen_at=now, key_hash=key_hash,
                        app=app,
                    )
                )
                .on_conflict(target=(Device.token, Device.platform), action="DO NOTHING")
                .returning(*Device.all_columns())
            )
            if not rows:
                continue  # registered concurrently: decide again as for an existing token
            await _record_supplier(rows[0]["id"], supplier_app)
            return rows[0], secret
        proven_by_key = presented_key is not None and existing["key_hash"] == hash_device_key(presented_key)
        proven_by_app = supplier_app is not None and await DeviceSupplier.exists().where(
            (DeviceSupplier.device == existing["id"]) & (DeviceSupplier.app == supplier_app)
        )
        if existing["active"] and not (proven_by_key or proven_by_app):
            raise TokenTaken()
        if existing["app"] != app:  # an FCM or APNs token never moves to another app's project
            raise BadUserInput("this token is registered with another app")
        if proven_by_key:
            secret, key_hash = presented_key, existing["key_hash"]  # type: ignore[assignment]
        else:
            secret, key_hash = new_device_key()
        async with db.transaction():
            # The device's row first, then its grants and subscriptions: the order subscribe
            # takes them in (api/allowances.py), so the two cannot deadlock.
            await db.lock_row("devices", existing["id"])
            if not existing["active"] and not proven_by_key:
                await _empty(existing["id"])
            rows = (
                await Device.update(
                    {
                        Device.p256dh: p256dh,
                        Device.auth: auth,
                        Device.active: True,
                        Device.inactive_reason: None,
                        Device.last_seen_at: now,
                        Device.key_hash: key_hash,
                    }
                )
                .where(Device.id == existing["id"])
                .returning(*Device.all_columns())
            )
        await _record_supplier(existing["id"], supplier_app)
        return rows[0], secret
    raise TokenTaken()


async def _record_supplier(device_id: int, app_id: int | None) -> None:
    if app_id is not None:
        await DeviceSupplier.insert(DeviceSupplier(device=device_id, app=app_id)).on_conflict(action="DO NOTHING")


async def _empty(device_id: int) -> None:
    """Everything a previous holder of the token had: subscriptions, grants, persons, suppliers."""
    await DeviceAccessGrant.delete().where(DeviceAccessGrant.device == device_id)  # grants first: see subscribe
    await ChannelSubscription.delete().where(ChannelSubscription.device == device_id)
    await DeviceSupplier.delete().where(DeviceSupplier.device == device_id)
    await PersonDevice.delete().where(PersonDevice.device == device_id)


async def unregister(device_id: int) -> None:
    """Stop sending to the device and drop its subscriptions and grants. The row stays so that
    the deliveries already recorded for it keep their history."""
    from api.runtime import get_runtime
    from api.webhooks import events as webhook_events
    from api.webhooks import service as webhook_service

    apps = await webhook_events.apps_of_devices([device_id])
    async with db.transaction():
        # The key goes too: an unregistered device is nobody's until registered again.
        await Device.update(
            {
                Device.active: False,
                Device.inactive_reason: "unregistered",
                Device.identifier: None,
                Device.key_hash: None,
                Device.verification_hash: None,
            }
        ).where(Device.id == device_id)
        await DeviceAccessGrant.delete().where(DeviceAccessGrant.device == device_id)  # grants first: see subscribe
        await ChannelSubscription.delete().where(ChannelSubscription.device == device_id)
        # It belongs to nobody any more: a later holder of the token starts with no person. This is
        # also how a device erases itself: its links, grants, subscriptions and read marks go.
        await PersonDevice.delete().where(PersonDevice.device == device_id)
        await ReadMark.delete().where(ReadMark.device == device_id)
        # Nor does any app still know it as the one that registered it (that would let it link
        # the device to a person again): a new registration supplies it afresh.
        await DeviceSupplier.delete().where(DeviceSupplier.device == device_id)
    await webhook_service.emit(get_runtime(), webhook_events.devices_left(apps, {device_id: "unregistered"}))
    await access_changed(f"device:{device_id}")


async def devices_by_ids(ids: list[int]) -> list[dict | None]:
    rows = {r["id"]: r for r in await Device.select().where(Device.id.is_in(ids))}
    return [rows.get(i) for i in ids]


async def supplied(keys: list[tuple[int, int]]) -> list[bool]:
    """(device id, app id) -> whether that app registered the token itself."""
    device_ids = list({d for d, _ in keys})
    rows = await DeviceSupplier.select(DeviceSupplier.device, DeviceSupplier.app).where(
        DeviceSupplier.device.is_in(device_ids)
    )
    found = {(r["device"], r["app"]) for r in rows}
    return [k in found for k in keys]
