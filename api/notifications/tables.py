"""Notifications and deliveries: the ledger. Every (notification, device) pair is one row."""

from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LazyTableReference,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.apps.tables import App
from api.channels.tables import Channel
from api.devices.tables import Device


class Notification(Table, tablename="notifications"):
    id = BigSerial(primary_key=True)
    app = ForeignKey(App, null=True, on_delete=OnDelete.cascade, index=True)
    # Null for a direct send (to persons or devices: api/people/tables.py says whom).
    channel = ForeignKey(Channel, null=True, on_delete=OnDelete.cascade, index=True)
    title = Text(null=True, default=None)
    body = Text(null=True, default=None)
    data = JSON(null=True, default=None)
    priority = Varchar(length=8, default="DEFAULT")
    collapse_key = Varchar(length=64, null=True, default=None)
    ttl = Integer(null=True, default=None)
    status = Varchar(length=10, default="QUEUED")
    send_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    archived_at = Timestamptz(null=True, default=None)
    # "app:<id>" or "channel:<id>" (anonymous sends): idempotency keys are unique within it.
    idempotency_scope = Varchar(length=32, null=True, default=None)
    idempotency_key = Varchar(length=128, null=True, default=None)
    # Fan-out progress, so a re-kicked fan-out resumes: the last device id written, or for a send
    # to persons the last (person, device) (api/delivery/targets.py).
    fanout_cursor = BigInt(default=0)
    fanout_cursor_device = BigInt(default=0)
    fanout_done = Boolean(default=False)
    kicked_at = Timestamptz(null=True, default=None)
    # Engagement (api/engagement/): bypasses quiet hours, digests and caps; how it is shown and
    # opened (url, image, badge, Expo and Web Push options; api/engagement/presentation.py).
    critical = Boolean(default=False)
    presentation = JSON(null=True, default=None)
    edited_at = Timestamptz(null=True, default=None)  # updateNotification
    # A replacement push owed to the devices it reached, since when (its task renews it as it goes,
    # clears it when done; the sweep kicks it again when it stalls): api/engagement/replacements.py.
    replacements_due_at = Timestamptz(null=True, default=None)
    # Sent without credentials (to a public channel): retention treats it as FREE's, whatever the
    # app's plan (api/notifications/retention.py).
    anonymous = Boolean(default=False)


class Delivery(Table, tablename="deliveries"):
    id = BigSerial(primary_key=True)
    notification = ForeignKey(Notification, on_delete=OnDelete.cascade)
    # Indexed with sent_at, (device, sent_at): migrations/booper_2026_11_30t16_00_00_000000.py.
    device = ForeignKey(Device, on_delete=OnDelete.cascade)
    platform = Varchar(length=8)
    status = Varchar(length=10, default="PENDING")
    attempts = Integer(default=0)
    error = Varchar(length=128, null=True, default=None)
    ticket_id = Varchar(length=128, null=True, default=None)
    # When the next attempt is due, and until when a sender holds it: the sweep
    # re-kicks PENDING rows that are overdue and not held, so a lost task only delays.
    next_attempt_at = Timestamptz(null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    opened_at = Timestamptz(null=True, default=None)  # markOpened, once
    # The person of the notification's app the device belonged to at fan-out (null: none, or
    # erased since): per-person read state and badges. Why a delivery was SKIPPED (ReadElsewhere).
    person = ForeignKey(
        LazyTableReference("Person", module_path="api.people.tables"), null=True, on_delete=OnDelete.set_null
    )
    reason = Varchar(length=32, null=True, default=None)
    # Digests (api/engagement/digests.py): the delivery whose push carried this merged one, and on
    # a carrier how many notifications its push stands for.
    digest_of = BigInt(null=True, default=None)
    digest_count = Integer(null=True, default=None)


class ReadMark(Table, tablename="read_marks"):
    id = BigSerial(primary_key=True)
    device = ForeignKey(Device, on_delete=OnDelete.cascade)
    notification = ForeignKey(Notification, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()


class DailyUsage(Table, tablename="daily_usage"):
    """Notifications accepted per app per UTC day; the quota check is one atomic update."""

    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade)
    day = Date()
    count = Integer(default=0)


class DeliveryAttempt(Table, tablename="delivery_attempts"):
    """Every provider outcome of a delivery (a send, or its Expo receipt), the last
    ATTEMPTS_KEPT per delivery (api/delivery/attempts.py): what the dashboard's timeline shows.
    Deleted with its delivery: on SQLite by the foreign key, on PostgreSQL by a statement trigger
    (migration 2026-11-30T04:00), which costs nothing per attempt written."""

    id = BigSerial(primary_key=True)
    delivery = ForeignKey(Delivery, on_delete=OnDelete.cascade)
    kind = Varchar(length=8)  # SEND or RECEIPT
    status = Varchar(length=10)  # what the attempt left the delivery in (PENDING: retry due)
    error = Varchar(length=128, null=True, default=None)
    ticket_id = Varchar(length=128, null=True, default=None)
    attempted_at = Timestamptz()
