"""Engagement: notifications.edited_at, set by updateNotification."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T00:52:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications.edited_at"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def add():
        await RawTable.raw("ALTER TABLE notifications ADD COLUMN edited_at TIMESTAMPTZ DEFAULT NULL")

    async def drop():
        await RawTable.raw("ALTER TABLE notifications DROP COLUMN edited_at")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
