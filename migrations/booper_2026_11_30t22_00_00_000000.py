"""Subscriptions to private channels that no grant backs are deleted.

Before 2026-11-30, `subscribe` checked a private channel's grant and wrote the subscription outside
one transaction, while a withdrawal (erasure, deleteSubscription) deleted the subscriptions before
the grants: a subscribe between the two could leave a subscription with no grant behind it. Since
then subscribe holds the grant until it has written, every withdrawal deletes grants first, and
the device's own lists and streams ignore such a row; the channel fan-out, which reads
subscriptions alone (a join on grants would cost every private send), still pushed to it. This
deletes what the race may have left. A channel's visibility never changes, so a subscription to a
private channel always needed a grant. Nothing to put back on the way down."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "delete private-channel subscriptions that no grant backs"


class RawTable(Table):
    pass


UNGRANTED = (
    "channel IN (SELECT id FROM channels WHERE visibility = 'PRIVATE') AND NOT EXISTS"
    " (SELECT 1 FROM device_access_grants g WHERE g.device = channel_subscriptions.device"
    " AND g.channel = channel_subscriptions.channel)"
)


async def delete_ungranted_subscriptions() -> int:
    """Deletes them; how many there were."""
    rows = await RawTable.raw(f"DELETE FROM channel_subscriptions WHERE {UNGRANTED} RETURNING id")
    return len(rows)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def change():
        await delete_ungranted_subscriptions()

    manager.add_raw(change)
    return manager
