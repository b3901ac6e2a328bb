"""users.token_version: carried in every JWT (`ver`), bumped by logOutEverywhere.

Existing users get a random version (as new ones do), so a row that is ever given a deleted
user's id cannot match that user's tokens. JWTs issued before this release carry no version and
are refused: everyone logs in once more.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T22:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "users.token_version"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def add():
        import secrets

        await RawTable.raw("ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0")
        for row in await RawTable.raw("SELECT id FROM users"):
            await RawTable.raw("UPDATE users SET token_version = {} WHERE id = {}",
                               1 + secrets.randbelow(2**30), row["id"])

    async def drop():
        await RawTable.raw("ALTER TABLE users DROP COLUMN token_version")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
