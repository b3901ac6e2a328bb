"""access_codes.code_hint: a code's last digits, so its owner can tell listed codes apart."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T03:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "access_codes.code_hint"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def add():
        await RawTable.raw("ALTER TABLE access_codes ADD COLUMN code_hint VARCHAR(4) DEFAULT NULL")

    async def drop():
        await RawTable.raw("ALTER TABLE access_codes DROP COLUMN code_hint")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
