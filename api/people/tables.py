"""Persons (an app's identifier for one of its users) and the devices linked to them."""

from piccolo.columns import BigSerial, ForeignKey, LazyTableReference, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from api.apps.tables import App
from api.devices.tables import Device

MAX_IDENTIFIER = 128


class Person(Table, tablename="persons"):
    """Unique per (app, identifier): a raw unique index in the migration (SQLite has no ADD CONSTRAINT)."""

    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade, index=True)
    identifier = Varchar(length=MAX_IDENTIFIER)
    created_at = Timestamptz()


class PersonDevice(Table, tablename="person_devices"):
    """A device belongs to at most one person per app (unique (device, app)), and may belong to
    persons of several apps: the Booper mobile app serves many apps. `app` repeats the person's
    app so that uniqueness is one index."""

    id = BigSerial(primary_key=True)
    person = ForeignKey(Person, on_delete=OnDelete.cascade, index=True)
    device = ForeignKey(Device, on_delete=OnDelete.cascade, index=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade)
    created_at = Timestamptz()


class PersonRead(Table, tablename="person_reads"):
    """Read state belongs to the person: read on one device is read on all of them."""

    id = BigSerial(primary_key=True)
    person = ForeignKey(Person, on_delete=OnDelete.cascade)
    notification = ForeignKey(
        LazyTableReference("Notification", module_path="api.notifications.tables"), on_delete=OnDelete.cascade
    )
    created_at = Timestamptz()


class NotificationPerson(Table, tablename="notification_persons"):
    """Who a direct send to `identifiers` went to. Erasing the person drops the row."""

    id = BigSerial(primary_key=True)
    notification = ForeignKey(
        LazyTableReference("Notification", module_path="api.notifications.tables"), on_delete=OnDelete.cascade
    )
    person = ForeignKey(Person, on_delete=OnDelete.cascade)


class NotificationDevice(Table, tablename="notification_devices"):
    """The devices a direct send to `deviceIds` went to."""

    id = BigSerial(primary_key=True)
    notification = ForeignKey(
        LazyTableReference("Notification", module_path="api.notifications.tables"), on_delete=OnDelete.cascade
    )
    device = ForeignKey(Device, on_delete=OnDelete.cascade)
