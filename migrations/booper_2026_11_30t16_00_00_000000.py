"""deliveries (device, sent_at) instead of deliveries (device).

The hourly cap check asks, for each recipient of a send batch, how many pushes it had in the
last hour. Through (device) alone each probe read every delivery the device ever had (within
retention) from the heap to look at sent_at; through (device, sent_at) it reads only the last
hour's, from the index. It replaces the old index rather than joining it: whatever looked up a
device's deliveries (a device's deletion, cascading) uses its first column as before, and a
delivery's updates that change its status were never HOT (status is indexed), so each already
wrote an entry to every index: the wider key is all it costs."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deliveries (device, sent_at) replaces deliveries (device)"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        await RawTable.raw("CREATE INDEX IF NOT EXISTS deliveries_device_sent ON deliveries (device, sent_at)")
        await RawTable.raw("DROP INDEX IF EXISTS deliveries_device")

    async def undo():
        await RawTable.raw("CREATE INDEX IF NOT EXISTS deliveries_device ON deliveries (device)")
        await RawTable.raw("DROP INDEX IF EXISTS deliveries_device_sent")

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
