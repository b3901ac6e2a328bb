"""People (issue 12): persons, their devices, per-person read marks, direct-send targets,
deliveries.person and deliveries.reason, apps.identity_secret.

Identifiers that access codes already gave (device_access_grants.identifier, devices.identifier)
become persons and links, and the old columns are emptied: person_devices is the one place a
device's person lives, so that erasing a person is complete.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "persons, person devices, person reads, direct-send targets"


def _table(name: str, columns: str, engine: str) -> str:
    key = '"id" BIGSERIAL PRIMARY KEY NOT NULL' if engine == "postgres" else (
        '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL'
    )
    return f'CREATE TABLE IF NOT EXISTS {name} ({key}, {columns})'


def _ref(table: str, engine: str, *, set_null: bool = False) -> str:
    kind = "BIGINT" if engine == "postgres" else "INTEGER"
    action = "SET NULL" if set_null else "CASCADE"
    return f"{kind} REFERENCES {table} (id) ON DELETE {action} ON UPDATE CASCADE"


def statements(engine: str) -> list[str]:
    stamp = '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp'
    return [
        "ALTER TABLE apps ADD COLUMN identity_secret VARCHAR(256) DEFAULT NULL",
        _table("persons", f'"app" {_ref("apps", engine)}, "identifier" VARCHAR(128) NOT NULL, {stamp}', engine),
        "CREATE UNIQUE INDEX IF NOT EXISTS persons_app_identifier ON persons (app, identifier)",
        _table(
            "person_devices",
            f'"person" {_ref("persons", engine)}, "device" {_ref("devices", engine)},'
            f' "app" {_ref("apps", engine)}, {stamp}',
            engine,
        ),
        "CREATE UNIQUE INDEX IF NOT EXISTS person_devices_device_app ON person_devices (device, app)",
        "CREATE INDEX IF NOT EXISTS person_devices_person ON person_devices (person, device)",
        _table("person_reads", f'"person" {_ref("persons", engine)},'
               f' "notification" {_ref("notifications", engine)}, {stamp}', engine),
        "CREATE UNIQUE INDEX IF NOT EXISTS person_reads_person_notification ON person_reads (person, notification)",
        "CREATE INDEX IF NOT EXISTS person_reads_notification ON person_reads (notification)",
        _table("notification_persons", f'"notification" {_ref("notifications", engine)},'
               f' "person" {_ref("persons", engine)}', engine),
        "CREATE UNIQUE INDEX IF NOT EXISTS notification_persons_notification_person"
        " ON notification_persons (notification, person)",
        "CREATE INDEX IF NOT EXISTS notification_persons_person ON notification_persons (person)",
        _table("notification_devices", f'"notification" {_ref("notifications", engine)},'
               f' "device" {_ref("devices", engine)}', engine),
        "CREATE UNIQUE INDEX IF NOT EXISTS notification_devices_notification_device"
        " ON notification_devices (notification, device)",
        "CREATE INDEX IF NOT EXISTS notification_devices_device ON notification_devices (device)",
        f"ALTER TABLE deliveries ADD COLUMN person {_ref('persons', engine, set_null=True)} DEFAULT NULL",
        "ALTER TABLE deliveries ADD COLUMN reason VARCHAR(32) DEFAULT NULL",
        "CREATE INDEX IF NOT EXISTS deliveries_person ON deliveries (person, notification)",
        # What access codes gave so far: persons and links (the newest grant per device and app wins).
        "INSERT INTO persons (app, identifier, created_at) SELECT app, identifier, MIN(created_at)"
        " FROM device_access_grants WHERE identifier IS NOT NULL AND LENGTH(identifier) <= 128"
        " GROUP BY app, identifier ON CONFLICT DO NOTHING",
        "INSERT INTO person_devices (person, device, app, created_at)"
        " SELECT p.id, g.device, g.app, g.created_at FROM device_access_grants g"
        " JOIN persons p ON p.app = g.app AND p.identifier = g.identifier"
        " WHERE g.id = (SELECT MAX(g2.id) FROM device_access_grants g2 WHERE g2.device = g.device"
        " AND g2.app = g.app AND g2.identifier IS NOT NULL) ON CONFLICT DO NOTHING",
        "UPDATE device_access_grants SET identifier = NULL WHERE identifier IS NOT NULL",
        "UPDATE devices SET identifier = NULL WHERE identifier IS NOT NULL",
    ]


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def create():
        engine = RawTable._meta.db.engine_type
        for statement in statements("postgres" if engine == "postgres" else "sqlite"):
            await RawTable.raw(statement)

    async def drop():
        await RawTable.raw("DROP INDEX IF EXISTS deliveries_person")
        for column in ("person", "reason"):
            await RawTable.raw(f"ALTER TABLE deliveries DROP COLUMN {column}")
        for table in ("notification_devices", "notification_persons", "person_reads", "person_devices", "persons"):
            await RawTable.raw(f"DROP TABLE IF EXISTS {table}")
        await RawTable.raw("ALTER TABLE apps DROP COLUMN identity_secret")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
