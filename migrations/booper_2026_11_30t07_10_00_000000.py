"""What a delivery costs PostgreSQL's indexes on its way from PENDING to an outcome.

- deliveries keeps 30% of each page free (fillfactor; SQLite has no such setting): a claim changes
  only lease_until, which no index holds, so with room on its page the new row version stays there
  and no index gets an entry (a HOT update). On full pages each claim wrote an entry into every
  one of the table's indexes.
- The two status indexes hold only the rows their readers look for: (status, next_attempt_at) the
  rows still to send (PENDING, HELD: the sweep, releases of held rows), (status, sent_at) the
  rows awaiting an Expo receipt (SENT). A row settled DELIVERED, FAILED or SKIPPED gets no entry
  in either (each was one more index entry per delivery, written at its outcome)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T07:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deliveries fillfactor 70 on PostgreSQL; partial status indexes"

PARTIAL = {
    "deliveries_status_next_attempt": "deliveries (status, next_attempt_at) WHERE status IN ('PENDING', 'HELD')",
    "deliveries_status_sent_at": "deliveries (status, sent_at) WHERE status = 'SENT'",
}
FULL = {
    "deliveries_status_next_attempt": "deliveries (status, next_attempt_at)",
    "deliveries_status_sent_at": "deliveries (status, sent_at)",
}


class RawTable(Table):
    pass


def _postgres() -> bool:
    return RawTable._meta.db.engine_type == "postgres"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def indexes(which: dict[str, str]) -> None:
        for name, on in which.items():
            await RawTable.raw(f"DROP INDEX IF EXISTS {name}")
            await RawTable.raw(f"CREATE INDEX {name} ON {on}")

    async def change():
        if _postgres():
            await RawTable.raw("ALTER TABLE deliveries SET (fillfactor = 70)")
        await indexes(PARTIAL)

    async def undo():
        if _postgres():
            await RawTable.raw("ALTER TABLE deliveries RESET (fillfactor)")
        await indexes(FULL)

    manager.add_raw(change)
    manager.add_raw_backwards(undo)
    return manager
