"""Channels and channel subscriptions.

A channel lives in its app's namespace; public channels created on first use by
anonymous callers have no app and share one global namespace (namespace 0).
"""

from piccolo.columns import BigInt, BigSerial, Boolean, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from api.apps.tables import App
from api.devices.tables import Device


class Channel(Table, tablename="channels"):
    id = BigSerial(primary_key=True)
    app = ForeignKey(App, null=True, on_delete=OnDelete.cascade, index=True)
    # app id, or 0 for the global namespace: a plain column so that the composite
    # unique index (namespace, name) also holds for app-less channels (NULLs never collide).
    namespace = BigInt(default=0)
    name = Varchar(length=64)
    visibility = Varchar(length=8, default="PUBLIC")
    created_at = Timestamptz()
    # Engagement (api/engagement/): bypasses quiet hours, digests and caps; digest window in seconds.
    critical = Boolean(default=False)
    digest_window = Integer(null=True, default=None)


class ChannelSubscription(Table, tablename="channel_subscriptions"):
    id = BigSerial(primary_key=True)
    channel = ForeignKey(Channel, on_delete=OnDelete.cascade)
    device = ForeignKey(Device, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()
