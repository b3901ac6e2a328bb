"""delivery_attempts: every provider outcome of a delivery (the last 20 kept), for its timeline."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T02:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "delivery_attempts"

COLUMNS = (
    ' "kind" VARCHAR(8) NOT NULL, "status" VARCHAR(10) NOT NULL,'
    ' "error" VARCHAR(128) DEFAULT NULL, "ticket_id" VARCHAR(128) DEFAULT NULL,'
    ' "attempted_at" TIMESTAMPTZ NOT NULL)'
)
CREATE = {
    "postgres": 'CREATE TABLE IF NOT EXISTS delivery_attempts ("id" BIGSERIAL PRIMARY KEY NOT NULL,'
    ' "delivery" BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE ON UPDATE CASCADE,' + COLUMNS,
    "sqlite": 'CREATE TABLE IF NOT EXISTS delivery_attempts ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,'
    ' "delivery" INTEGER NOT NULL REFERENCES "deliveries" ("id") ON DELETE CASCADE ON UPDATE CASCADE,' + COLUMNS,
}
# A delivery's attempts in order (the timeline, the pruning of all but the last 20), and the
# cascade from deliveries.
INDEX = "CREATE INDEX IF NOT EXISTS delivery_attempts_delivery ON delivery_attempts (delivery, id)"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def create():
        kind = "postgres" if RawTable._meta.db.engine_type == "postgres" else "sqlite"
        await RawTable.raw(CREATE[kind])
        await RawTable.raw(INDEX)

    async def drop():
        await RawTable.raw("DROP TABLE IF EXISTS delivery_attempts")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
