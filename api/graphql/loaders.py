"""Per-request DataLoaders, so lists of objects cost one query per field, not one per row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from api.graphql.context import Info

# Keys per statement: well under both engines' limit on query parameters (SQLite 32,766,
# asyncpg 32,767), and a bounded IN list however large a response is.
MAX_BATCH = 500


def loader(
    info: Info, name: str, batch: Callable[[Sequence[Hashable]], Awaitable[Sequence[Any]]]
) -> DataLoader:
    """The request's loader called `name`: every parent object's `.load(key)` in one tick is one
    call of `batch(keys)` (a statement), not one per parent. Used by every nested object or list
    field that reads the database (Channel.app, App.channels, Notification.channel, ...)."""
    loaders = info.context.loaders()
    existing = loaders.get(name)
    if existing is None:
        existing = loaders[name] = DataLoader(load_fn=batch, max_batch_size=MAX_BATCH)
    return existing
