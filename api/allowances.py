"""How many of a kind one owner may hold: apps per user, channels and live API keys per app,
channels a device follows.

Each is a plain count against a setting (BOOPER_MAX_APPS_PER_USER, BOOPER_MAX_CHANNELS_PER_APP,
BOOPER_MAX_API_KEYS_PER_APP, BOOPER_MAX_SUBSCRIPTIONS_PER_DEVICE). Without them an app's key
could make channels at its rate limit all day (864,000 a day at 10/s), each listed whole by
`App.channels`; every app a user adds brings its own rate limit; and a device could subscribe to
new public names without end (each its own channel, all re-read by the device's stream). Revoked
keys stay listed (when each was revoked) up to KEPT_REVOKED_KEYS per app, the oldest forgotten
past that, so creating and revoking in a loop grows nothing either.

Called inside the create transaction: the owner's row locked (PostgreSQL: FOR NO KEY UPDATE,
which the foreign-key checks of the app's sends, FOR KEY SHARE, do not wait for; SQLite: its
write lock) makes the count and the insert one step, so concurrent creates cannot pass the
allowance together. An owner deleted meanwhile is NOT_FOUND, not a foreign-key failure.
"""

from __future__ import annotations

from api import db
from api.apps.tables import ApiKey, App
from api.channels.tables import Channel, ChannelSubscription
from api.errors import Conflict, NotFound, QuotaExceeded

KEPT_REVOKED_KEYS = 100


async def _lock(table: str, row_id: int, what: str) -> None:
    if not await db.lock_row(table, row_id):
        raise NotFound(f"{what} not found")


async def hold_app(owner_id: int, most: int) -> None:
    await _lock("users", owner_id, "account")
    if await App.count().where(App.owner == owner_id) >= most:
        raise QuotaExceeded(f"an account holds at most {most} apps (BOOPER_MAX_APPS_PER_USER): delete one first")


async def hold_channel(app_id: int, name: str, most: int) -> None:
    await _lock("apps", app_id, "app")
    if await Channel.count().where(Channel.app == app_id) >= most:
        if await Channel.exists().where((Channel.app == app_id) & (Channel.name == name)):
            raise Conflict(f"the app already has a channel named {name!r}")
        raise QuotaExceeded(
            f"an app holds at most {most} channels (BOOPER_MAX_CHANNELS_PER_APP): delete one first")


async def hold_api_key(app_id: int, most: int) -> None:
    await _lock("apps", app_id, "app")
    if await ApiKey.count().where((ApiKey.app == app_id) & ApiKey.revoked_at.is_null()) >= most:
        raise QuotaExceeded(
            f"an app holds at most {most} live API keys (BOOPER_MAX_API_KEYS_PER_APP): revoke one first")


async def hold_subscriptions(device_id: int, channel_ids: list[int], most: int) -> None:
    """Room for the device to follow these channels (subscribe: one; an access code: its
    channels). Those it follows already are no new rows: always let through, even past the
    allowance (it may have been lowered since)."""
    await _lock("devices", device_id, "device")
    wanted = set(channel_ids)
    if not wanted:
        return
    mine = ChannelSubscription.device == device_id
    held = await ChannelSubscription.count().where(mine)
    if held + len(wanted) <= most:
        return
    new = len(wanted) - await ChannelSubscription.count().where(
        mine & ChannelSubscription.channel.is_in(list(wanted)))
    if new > 0 and held + new > most:
        raise QuotaExceeded(subscriptions_full(most))


def subscriptions_full(most: int) -> str:
    return (f"a device follows at most {most} channels (BOOPER_MAX_SUBSCRIPTIONS_PER_DEVICE):"
            " unsubscribe from one first")


async def forget_old_revoked_keys(app_id: int) -> None:
    """The app's revoked keys but the KEPT_REVOKED_KEYS most recently revoked, deleted."""
    await ApiKey.raw(
        "DELETE FROM api_keys WHERE app = {} AND revoked_at IS NOT NULL AND id NOT IN"
        " (SELECT id FROM api_keys WHERE app = {} AND revoked_at IS NOT NULL"
        f" ORDER BY revoked_at DESC, id DESC LIMIT {KEPT_REVOKED_KEYS})",
        app_id, app_id,
    )
