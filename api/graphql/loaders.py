"""Per-request DataLoaders, so lists of objects cost one query per field, not one per row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from api.graphql.context import Info


def loader(
    info: Info, name: str, batch: Callable[[Sequence[Hashable]], Awaitable[Sequence[Any]]]
) -> DataLoader:
    loaders = info.context.loaders()
    existing = loaders.get(name)
    if existing is None:
        existing = loaders[name] = DataLoader(load_fn=batch)
    return existing
