"""notification_persons by (person, notification): Person.notifications pages a person's direct
sends newest first, which the (person) index answered by reading and sorting all of them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification_persons (person, notification) index"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        await RawTable.raw("CREATE INDEX IF NOT EXISTS notification_persons_person_notification"
                           " ON notification_persons (person, notification)")
        await RawTable.raw("DROP INDEX IF EXISTS notification_persons_person")

    async def undo():
        await RawTable.raw("CREATE INDEX IF NOT EXISTS notification_persons_person ON notification_persons (person)")
        await RawTable.raw("DROP INDEX IF EXISTS notification_persons_person_notification")

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
