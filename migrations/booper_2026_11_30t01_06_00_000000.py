"""Engagement digests: deliveries.digest_of (the delivery that carried a merged one) and
deliveries.digest_count (on a carrier: how many notifications its push stands for)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T01:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deliveries.digest_of, deliveries.digest_count"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def add():
        await RawTable.raw("ALTER TABLE deliveries ADD COLUMN digest_of BIGINT DEFAULT NULL")
        await RawTable.raw("ALTER TABLE deliveries ADD COLUMN digest_count INTEGER DEFAULT NULL")

    async def drop():
        await RawTable.raw("ALTER TABLE deliveries DROP COLUMN digest_count")
        await RawTable.raw("ALTER TABLE deliveries DROP COLUMN digest_of")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
