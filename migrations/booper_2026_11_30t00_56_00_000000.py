"""Engagement: preferences (muted channels, quiet hours) per person of an app or per device."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T00:56:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "preferences"


def _create(engine: str) -> str:
    key = '"id" BIGSERIAL PRIMARY KEY NOT NULL' if engine == "postgres" else (
        '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL'
    )
    ref = "BIGINT" if engine == "postgres" else "INTEGER"
    cascade = "ON DELETE CASCADE ON UPDATE CASCADE"
    return (
        f'CREATE TABLE IF NOT EXISTS preferences ({key}, "app" {ref} NOT NULL REFERENCES apps (id) {cascade},'
        f' "person" {ref} REFERENCES persons (id) {cascade} DEFAULT NULL,'
        f' "device" {ref} REFERENCES devices (id) {cascade} DEFAULT NULL,'
        ' "muted_channels" JSON NOT NULL DEFAULT \'[]\', "quiet_start" VARCHAR(5) DEFAULT NULL,'
        ' "quiet_end" VARCHAR(5) DEFAULT NULL, "time_zone" VARCHAR(64) DEFAULT NULL,'
        ' "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
    )


INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS preferences_app_person ON preferences (app, person)",
    "CREATE UNIQUE INDEX IF NOT EXISTS preferences_app_device ON preferences (app, device)",
    "CREATE INDEX IF NOT EXISTS preferences_person ON preferences (person)",
    "CREATE INDEX IF NOT EXISTS preferences_device ON preferences (device)",
]


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def create():
        engine = RawTable._meta.db.engine_type
        await RawTable.raw(_create("postgres" if engine == "postgres" else "sqlite"))
        for statement in INDEXES:
            await RawTable.raw(statement)

    async def drop():
        await RawTable.raw("DROP TABLE IF EXISTS preferences")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
