"""app_credentials: each app's own Expo access token, FCM service account and APNs key (sealed);
devices.app: the app an FCM or APNs token belongs to."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T00:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "app_credentials, devices.app"

COLUMNS = (
    ' "expo_access_token" TEXT DEFAULT NULL, "fcm_service_account" TEXT DEFAULT NULL,'
    ' "fcm_project_id" VARCHAR(128) DEFAULT NULL, "apns_private_key" TEXT DEFAULT NULL,'
    ' "apns_key_id" VARCHAR(16) DEFAULT NULL, "apns_team_id" VARCHAR(16) DEFAULT NULL,'
    ' "apns_topic" VARCHAR(255) DEFAULT NULL, "apns_production" BOOLEAN DEFAULT NULL,'
    ' "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
CREATE = {
    "postgres": 'CREATE TABLE IF NOT EXISTS app_credentials ("id" BIGSERIAL PRIMARY KEY NOT NULL,'
    ' "app" BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE ON UPDATE CASCADE,' + COLUMNS,
    "sqlite": 'CREATE TABLE IF NOT EXISTS app_credentials ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,'
    ' "app" INTEGER NOT NULL REFERENCES "apps" ("id") ON DELETE CASCADE ON UPDATE CASCADE,' + COLUMNS,
}
INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS app_credentials_app ON app_credentials (app)"
DEVICE_APP = {
    "postgres": "ALTER TABLE devices ADD COLUMN app BIGINT DEFAULT NULL REFERENCES apps (id) ON DELETE CASCADE",
    "sqlite": 'ALTER TABLE devices ADD COLUMN "app" INTEGER DEFAULT NULL REFERENCES "apps" ("id") ON DELETE CASCADE',
}
DEVICE_APP_INDEX = "CREATE INDEX IF NOT EXISTS devices_app ON devices (app)"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def create():
        kind = "postgres" if RawTable._meta.db.engine_type == "postgres" else "sqlite"
        await RawTable.raw(CREATE[kind])
        await RawTable.raw(INDEX)
        await RawTable.raw(DEVICE_APP[kind])
        await RawTable.raw(DEVICE_APP_INDEX)

    async def drop():
        await RawTable.raw("DROP TABLE IF EXISTS app_credentials")
        await RawTable.raw("DROP INDEX IF EXISTS devices_app")
        await RawTable.raw("ALTER TABLE devices DROP COLUMN app")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
