"""Webhook secrets sealed at rest (AES-GCM, a key derived from the secret key).

Rows written in plaintext by earlier releases are sealed; backwards opens them again. Runs
row by row in Python (the key never reaches SQL), the same on PostgreSQL and SQLite, and
leaves rows that are already sealed alone, so running it twice changes nothing.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal webhook secrets at rest"


class RawTable(Table):
    pass


def _secret_key() -> str:
    from api.settings import get_settings

    return get_settings().resolved_secret_key


async def encrypt_webhook_secrets() -> int:
    """Seal every plaintext webhook secret; returns how many rows changed."""
    from api import secrets_at_rest
    from api.webhooks.service import seal_secret

    key = _secret_key()
    changed = 0
    for row in await RawTable.raw("SELECT id, app, secret FROM webhooks"):
        if secrets_at_rest.is_sealed(row["secret"]):
            continue
        sealed = seal_secret(row["app"], row["secret"], key)
        await RawTable.raw("UPDATE webhooks SET secret = {} WHERE id = {} AND secret = {}",
                           sealed, row["id"], row["secret"])
        changed += 1
    return changed


async def decrypt_webhook_secrets() -> int:
    """Backwards: open every sealed secret (for a release that reads plaintext)."""
    from api import secrets_at_rest
    from api.webhooks.service import webhook_secret

    key = _secret_key()
    changed = 0
    for row in await RawTable.raw("SELECT id, app, secret FROM webhooks"):
        if not secrets_at_rest.is_sealed(row["secret"]):
            continue
        await RawTable.raw("UPDATE webhooks SET secret = {} WHERE id = {}", webhook_secret(row, key), row["id"])
        changed += 1
    return changed


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def run():
        await encrypt_webhook_secrets()

    async def back():
        await decrypt_webhook_secrets()

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
