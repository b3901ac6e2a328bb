"""A fan-out to persons pages by (person, device): a second cursor column.

A send to persons used to page by device id across all of its persons' devices (each page read
and sorted every one of them again); it now pages by (person, device), whatever number of devices
a person has, in pages of at most 1,000 rows. `fanout_cursor` holds the person, the new
`fanout_cursor_device` the device within them (channel and device sends keep paging by device id
in `fanout_cursor` alone). A fan-out to persons still running when this is applied had a device id
in `fanout_cursor`: it starts again from the first person (its pages insert with ON CONFLICT DO
NOTHING, so nothing is made twice)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications.fanout_cursor_device; fan-outs to persons in progress start again"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        await RawTable.raw("ALTER TABLE notifications ADD COLUMN fanout_cursor_device BIGINT NOT NULL DEFAULT 0")
        await RawTable.raw(
            "UPDATE notifications SET fanout_cursor = 0 WHERE status = 'QUEUED' AND fanout_done = FALSE"
            " AND EXISTS (SELECT 1 FROM notification_persons np WHERE np.notification = notifications.id)"
        )

    async def undo():
        await RawTable.raw("ALTER TABLE notifications DROP COLUMN fanout_cursor_device")

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
