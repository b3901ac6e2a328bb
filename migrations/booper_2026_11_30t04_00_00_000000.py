"""The send path's write cost: deliveries_person indexes only deliveries that have a person (a
channel fan-out to devices of no person no longer writes an index entry per delivery, on insert
and on every status change), and on PostgreSQL delivery_attempts follows its deliveries by a
statement trigger instead of a foreign key (the key's check ran once per attempt row, on every
send and receipt: about a tenth of PostgreSQL's work per delivery). SQLite keeps its key."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial deliveries_person; delivery_attempts cascade by trigger on PostgreSQL"

PARTIAL_INDEX = (
    "CREATE INDEX IF NOT EXISTS deliveries_person ON deliveries (person, notification) WHERE person IS NOT NULL"
)
FULL_INDEX = "CREATE INDEX IF NOT EXISTS deliveries_person ON deliveries (person, notification)"
CASCADE_FUNCTION = """
CREATE OR REPLACE FUNCTION delivery_attempts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_attempts WHERE delivery IN (SELECT id FROM gone);
    RETURN NULL;
END $$"""
CASCADE_TRIGGER = (
    "CREATE TRIGGER deliveries_attempts_follow AFTER DELETE ON deliveries"
    " REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION delivery_attempts_follow()"
)
FOREIGN_KEY = (
    "ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_delivery_fkey FOREIGN KEY (delivery)"
    " REFERENCES deliveries (id) ON DELETE CASCADE ON UPDATE CASCADE"
)


class RawTable(Table):
    pass


def _postgres() -> bool:
    return RawTable._meta.db.engine_type == "postgres"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        await RawTable.raw("DROP INDEX IF EXISTS deliveries_person")
        await RawTable.raw(PARTIAL_INDEX)
        if _postgres():
            await RawTable.raw(
                "ALTER TABLE delivery_attempts DROP CONSTRAINT IF EXISTS delivery_attempts_delivery_fkey"
            )
            await RawTable.raw(CASCADE_FUNCTION)
            await RawTable.raw("DROP TRIGGER IF EXISTS deliveries_attempts_follow ON deliveries")
            await RawTable.raw(CASCADE_TRIGGER)

    async def undo():
        await RawTable.raw("DROP INDEX IF EXISTS deliveries_person")
        await RawTable.raw(FULL_INDEX)
        if _postgres():
            await RawTable.raw("DROP TRIGGER IF EXISTS deliveries_attempts_follow ON deliveries")
            await RawTable.raw("DROP FUNCTION IF EXISTS delivery_attempts_follow()")
            await RawTable.raw("DELETE FROM delivery_attempts a WHERE NOT EXISTS"
                               " (SELECT 1 FROM deliveries d WHERE d.id = a.delivery)")
            await RawTable.raw(FOREIGN_KEY)

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
