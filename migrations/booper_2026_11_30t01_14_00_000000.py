"""Engagement caps: apps.person_hourly_cap (pushes per person per hour; null: the global default)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T01:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "apps.person_hourly_cap"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def add():
        await RawTable.raw("ALTER TABLE apps ADD COLUMN person_hourly_cap INTEGER DEFAULT NULL")

    async def drop():
        await RawTable.raw("ALTER TABLE apps DROP COLUMN person_hourly_cap")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
