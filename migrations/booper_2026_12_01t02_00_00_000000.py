"""notifications.anonymous: sent without credentials (to a public channel).

Retention kept an app's notifications by its plan, BUSINESS for ever, whoever sent them: anyone
may send to an app's public channel without credentials (within the anonymous rate limits), so
strangers could grow a BUSINESS app's history without end. Anonymous sends now follow FREE's
7/30 days. Earlier rows are marked where the row says so: an idempotency key given without
credentials was scoped to the channel ("channel:<id>"); other anonymous rows of the past cannot
be told from the app's own and stay as they were."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications.anonymous"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        await RawTable.raw("ALTER TABLE notifications ADD COLUMN anonymous BOOLEAN NOT NULL DEFAULT false")
        await RawTable.raw(
            "UPDATE notifications SET anonymous = true WHERE idempotency_scope LIKE 'channel:%' AND app IS NOT NULL")

    async def undo():
        await RawTable.raw("ALTER TABLE notifications DROP COLUMN anonymous")

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
