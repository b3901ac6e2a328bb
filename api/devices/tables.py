"""Devices and the grants that let a device join private channels."""

from piccolo.columns import (
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    LazyTableReference,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.apps.tables import App


class Device(Table, tablename="devices"):
    id = BigSerial(primary_key=True)
    platform = Varchar(length=8)
    token = Varchar(length=2048)
    p256dh = Varchar(length=128, null=True, default=None)
    auth = Varchar(length=64, null=True, default=None)
    identifier = Varchar(length=256, null=True, default=None)
    active = Boolean(default=True)
    # why a device stopped receiving: "unregistered", or the provider's verdict
    # (DeviceNotRegistered, http_410, ...). Kept so the ledger explains itself.
    inactive_reason = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz()
    last_seen_at = Timestamptz(null=True, default=None)
    # The device key (dk_...) proves the caller is the device: only its hash is kept. A push
    # token is an address, never a credential (SECURITY.md).
    key_hash = Varchar(length=64, null=True, default=None)
    # A one-time code pushed to the token by requestDeviceVerification (hash, expiry, tries).
    verification_hash = Varchar(length=64, null=True, default=None)
    verification_expires_at = Timestamptz(null=True, default=None)
    verification_attempts = Integer(default=0)
    # FCM and APNs tokens belong to one app's Firebase project or bundle: sent with that app's
    # credentials, subscribed to that app's channels only. None for Expo and Web Push.
    app = ForeignKey(App, on_delete=OnDelete.cascade, null=True, default=None, index=True)


class DeviceSupplier(Table, tablename="device_suppliers"):
    """An app that registered this token itself (with its API key): it may read the token back.
    Every other app sees the device id, platform and a hint."""

    id = BigSerial(primary_key=True)
    device = ForeignKey(Device, on_delete=OnDelete.cascade)
    app = ForeignKey(App, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()


class DeviceAccessGrant(Table, tablename="device_access_grants"):
    id = BigSerial(primary_key=True)
    device = ForeignKey(Device, on_delete=OnDelete.cascade)
    app = ForeignKey(App, on_delete=OnDelete.cascade, index=True)
    channel = ForeignKey(
        LazyTableReference("Channel", module_path="api.channels.tables"),
        on_delete=OnDelete.cascade,
        index=True,
    )
    identifier = Varchar(length=256, null=True, default=None)
    created_at = Timestamptz()
