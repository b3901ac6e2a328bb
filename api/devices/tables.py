"""Devices and the grants that let a device join private channels."""

from piccolo.columns import BigSerial, Boolean, ForeignKey, LazyTableReference, OnDelete, Timestamptz, Varchar
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
