"""Rate limits through the `limits` library: Redis storage when configured (shared by every
API process), memory otherwise. Refusals carry retryAfter."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from api.errors import RateLimited


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                redis_url.replace("redis://", "async+redis://", 1), implementation="redispy"
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        # Sliding-window counter: two counters per key, O(1) in time and memory whatever the limit
        # (a moving window keeps one entry per request of the window: 1,000 for "1000/second").
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, limit: str | RateLimitItem, *key: str, message: str) -> None:
        """Take one unit or raise RATE_LIMITED with the seconds until one frees up."""
        item = parse(limit) if isinstance(limit, str) else limit
        if await self.strategy.hit(item, *key):
            return
        from api.metrics import RATE_LIMITED

        RATE_LIMITED.labels(limit=key[0] if key else "unnamed").inc()
        stats = await self.strategy.get_window_stats(item, *key)
        raise RateLimited(message, retry_after=max(stats.reset_time - time.time(), 1))

    async def reset(self) -> None:
        await self.storage.reset()
