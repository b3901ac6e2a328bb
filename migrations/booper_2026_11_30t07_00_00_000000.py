"""Engagement checks' bound (api/engagement/recent.py): an app's or a channel's notifications that
may have pushed since a moment (not completed before it), found through an index instead of read
from every delivery of the batch's devices."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications (app, completed_at) and (channel, completed_at)"

INDEXES = {
    "notifications_app_completed": "notifications (app, completed_at)",
    "notifications_channel_completed": "notifications (channel, completed_at)",
}


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        for name, on in INDEXES.items():
            await RawTable.raw(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")

    async def undo():
        for name in INDEXES:
            await RawTable.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
