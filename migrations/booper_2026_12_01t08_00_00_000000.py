"""notifications.replacements_due_at: a replacement push is owed to the devices it reached.

Set by updateNotification and retractNotification, renewed by the replacement task as it goes
(a page at a time), cleared when it has pushed every page; the sweep kicks the task again for a
notification whose mark has not moved for BOOPER_STALL_AFTER (a lost kick, a killed worker, an
outage mid-way). A partial index: the sweep's scan reads only the few marked rows."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications.replacements_due_at"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        await RawTable.raw("ALTER TABLE notifications ADD COLUMN replacements_due_at TIMESTAMPTZ NULL")
        await RawTable.raw("CREATE INDEX notifications_replacements_due ON notifications (replacements_due_at)"
                           " WHERE replacements_due_at IS NOT NULL")

    async def undo():
        await RawTable.raw("DROP INDEX IF EXISTS notifications_replacements_due")
        await RawTable.raw("ALTER TABLE notifications DROP COLUMN replacements_due_at")

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
