"""Engagement: channel settings (critical, digest window), a notification's critical flag and
presentation (tap URL, image, badge, Expo and Web Push display options), a delivery's open time."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T00:33:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "channel critical/digest window, notification critical/presentation, delivery opened_at"

# (table, column, definition): plain ALTERs that both engines take as they are.
COLUMNS = [
    ("channels", "critical", "BOOLEAN NOT NULL DEFAULT false"),
    ("channels", "digest_window", "INTEGER DEFAULT NULL"),
    ("notifications", "critical", "BOOLEAN NOT NULL DEFAULT false"),
    ("notifications", "presentation", "JSON DEFAULT NULL"),
    ("deliveries", "opened_at", "TIMESTAMPTZ DEFAULT NULL"),
]


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def add():
        for table, column, definition in COLUMNS:
            await RawTable.raw(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    async def drop():
        for table, column, _ in reversed(COLUMNS):
            await RawTable.raw(f"ALTER TABLE {table} DROP COLUMN {column}")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
