"""Preferences: muted channels and quiet hours of a person of an app, or of a device of no person."""

from piccolo.columns import JSON, BigSerial, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from api.apps.tables import App
from api.devices.tables import Device
from api.people.tables import Person


class Preference(Table, tablename="preferences"):
    """One row per (app, person) or (app, device): raw unique indexes in the migration. Erasing the
    person, unregistering the device or deleting the app removes it (ON DELETE CASCADE)."""

    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade)
    person = ForeignKey(Person, null=True, on_delete=OnDelete.cascade)
    device = ForeignKey(Device, null=True, on_delete=OnDelete.cascade)
    muted_channels = JSON(default="[]")  # channel ids of the app
    quiet_start = Varchar(length=5, null=True, default=None)  # "HH:MM" local time
    quiet_end = Varchar(length=5, null=True, default=None)
    time_zone = Varchar(length=64, null=True, default=None)  # IANA name
    updated_at = Timestamptz()
