"""Access codes. Only an HMAC of the code is stored, so a database dump reveals no live code."""

from piccolo.columns import BigSerial, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from api.apps.tables import App
from api.channels.tables import Channel
from api.devices.tables import Device


class AccessCode(Table, tablename="access_codes"):
    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64, index=True)
    # The code's last HINT_DIGITS digits, for its owner to tell codes apart (null before hints).
    code_hint = Varchar(length=4, null=True, default=None)
    identifier = Varchar(length=256, null=True, default=None)
    expires_at = Timestamptz()
    created_at = Timestamptz()
    redeemed_at = Timestamptz(null=True, default=None)
    redeemed_by = ForeignKey(Device, null=True, on_delete=OnDelete.set_null)


class AccessCodeChannel(Table, tablename="access_code_channels"):
    id = BigSerial(primary_key=True)
    access_code = ForeignKey(AccessCode, on_delete=OnDelete.cascade, index=True)
    channel = ForeignKey(Channel, on_delete=OnDelete.cascade, index=True)
