"""How many of a kind one owner may hold: apps per user, channels and live API keys per app.

Each is a plain count against a setting (BOOPER_MAX_APPS_PER_USER, BOOPER_MAX_CHANNELS_PER_APP,
BOOPER_MAX_API_KEYS_PER_APP): an account with a key could otherwise make objects at its rate
limit all day (864,000 channels a day at 10/s), each listed whole by `App.channels` and
`App.apiKeys`, and every app a user adds brings its own rate limit. Called inside the create
transaction: PostgreSQL's lock on the owner's row (SQLite's write lock) makes the count and the
insert one step, so concurrent creates cannot pass the allowance together.
"""

from __future__ import annotations

from api import db
from api.apps.tables import ApiKey, App
from api.channels.tables import Channel
from api.errors import QuotaExceeded


async def _lock(table: str, row_id: int) -> None:
    if db.is_postgres(db.current_engine()):
        await App.raw(f"SELECT id FROM {table} WHERE id = {{}} FOR UPDATE", row_id)


async def hold_app(owner_id: int, most: int) -> None:
    await _lock("users", owner_id)
    if await App.count().where(App.owner == owner_id) >= most:
        raise QuotaExceeded(f"an account holds at most {most} apps (BOOPER_MAX_APPS_PER_USER): delete one first")


async def hold_channel(app_id: int, most: int) -> None:
    await _lock("apps", app_id)
    if await Channel.count().where(Channel.app == app_id) >= most:
        raise QuotaExceeded(
            f"an app holds at most {most} channels (BOOPER_MAX_CHANNELS_PER_APP): delete one first")


async def hold_api_key(app_id: int, most: int) -> None:
    await _lock("apps", app_id)
    if await ApiKey.count().where((ApiKey.app == app_id) & ApiKey.revoked_at.is_null()) >= most:
        raise QuotaExceeded(
            f"an app holds at most {most} live API keys (BOOPER_MAX_API_KEYS_PER_APP): revoke one first")
