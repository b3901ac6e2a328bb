"""A short-lived in-process cache: entries expire TTL seconds after they were put, and a full
cache starts over rather than tracking recency (hot entries come straight back)."""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any


class TtlCache:
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one entry (or everything)."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
