"""Device keys (a hash per device), device verification codes, and which apps supplied a token."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device keys, verification codes, token suppliers"

COLUMNS = [
    "ALTER TABLE devices ADD COLUMN key_hash VARCHAR(64) DEFAULT NULL",
    "ALTER TABLE devices ADD COLUMN verification_hash VARCHAR(64) DEFAULT NULL",
    "ALTER TABLE devices ADD COLUMN verification_expires_at TIMESTAMPTZ DEFAULT NULL",
    "ALTER TABLE devices ADD COLUMN verification_attempts INTEGER NOT NULL DEFAULT 0",
    "CREATE UNIQUE INDEX IF NOT EXISTS devices_key_hash ON devices (key_hash)",
]
SUPPLIERS = {
    "postgres": 'CREATE TABLE IF NOT EXISTS device_suppliers ("id" BIGSERIAL PRIMARY KEY NOT NULL,'
    ' "device" BIGINT REFERENCES devices (id) ON DELETE CASCADE ON UPDATE CASCADE,'
    ' "app" BIGINT REFERENCES apps (id) ON DELETE CASCADE ON UPDATE CASCADE,'
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    "sqlite": 'CREATE TABLE IF NOT EXISTS device_suppliers ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,'
    ' "device" INTEGER REFERENCES "devices" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,'
    ' "app" INTEGER REFERENCES "apps" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,'
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
}
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS device_suppliers_device_app ON device_suppliers (device, app)",
    "CREATE INDEX IF NOT EXISTS device_suppliers_app ON device_suppliers (app)",
]


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def create():
        engine = RawTable._meta.db
        for statement in COLUMNS:
            await RawTable.raw(statement)
        await RawTable.raw(SUPPLIERS["postgres" if engine.engine_type == "postgres" else "sqlite"])
        for statement in INDEXES:
            await RawTable.raw(statement)

    async def drop():
        await RawTable.raw("DROP TABLE IF EXISTS device_suppliers")
        await RawTable.raw("DROP INDEX IF EXISTS devices_key_hash")
        for column in ("key_hash", "verification_hash", "verification_expires_at", "verification_attempts"):
            await RawTable.raw(f"ALTER TABLE devices DROP COLUMN {column}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
