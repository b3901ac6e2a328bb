"""Composite unique constraints and lookup indexes.

Raw `CREATE ... INDEX IF NOT EXISTS` rather than Piccolo's composite `Unique`,
which emits `ALTER TABLE ... ADD CONSTRAINT` and SQLite rejects that. The same
statements run on PostgreSQL and SQLite, and `ON CONFLICT (a, b)` works against
them on both.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T05:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique constraints and lookup indexes"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS channels_namespace_name ON channels (namespace, name)",
    "CREATE UNIQUE INDEX IF NOT EXISTS channel_subscriptions_channel_device"
    " ON channel_subscriptions (channel, device)",
    "CREATE UNIQUE INDEX IF NOT EXISTS devices_token_platform ON devices (token, platform)",
    "CREATE UNIQUE INDEX IF NOT EXISTS device_access_grants_device_channel"
    " ON device_access_grants (device, channel)",
    "CREATE UNIQUE INDEX IF NOT EXISTS notifications_idempotency"
    " ON notifications (idempotency_scope, idempotency_key)",
    "CREATE INDEX IF NOT EXISTS notifications_channel_id ON notifications (channel, id)",
    "CREATE INDEX IF NOT EXISTS notifications_app_id ON notifications (app, id)",
    "CREATE INDEX IF NOT EXISTS notifications_status_send_at ON notifications (status, send_at)",
    "CREATE INDEX IF NOT EXISTS notifications_status_created ON notifications (status, created_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS deliveries_notification_device"
    " ON deliveries (notification, device)",
    "CREATE INDEX IF NOT EXISTS deliveries_status_next_attempt"
    " ON deliveries (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS deliveries_notification_status"
    " ON deliveries (notification, status)",
    "CREATE INDEX IF NOT EXISTS deliveries_status_sent_at ON deliveries (status, sent_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS read_marks_device_notification"
    " ON read_marks (device, notification)",
    "CREATE UNIQUE INDEX IF NOT EXISTS daily_usage_app_day ON daily_usage (app, day)",
]


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def create_indexes():
        for statement in INDEXES:
            await RawTable.raw(statement)

    async def drop_indexes():
        for statement in INDEXES:
            name = statement.split(" EXISTS ")[1].split(" ")[0]
            await RawTable.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
