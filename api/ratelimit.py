"""Rate limits, sliding-window counters: in memory on the embedded default (the `limits`
library), in Redis when configured (shared by every API process). Refusals carry retryAfter.

On Redis, the checks of concurrent requests go together (api/coalesce.py): one script call
decides a batch in order, atomically, so limits stay exact under concurrency and a busy API
process pays about one round trip per batch instead of one per request.
"""

from __future__ import annotations

import functools
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from api.coalesce import Coalescer
from api.errors import RateLimited

PREFIX = "booper:rl:"

# Per entry: KEYS[i] is the counter's name; ARGV[2i-1], ARGV[2i] its limit and window (seconds).
# The weighted count is the previous window's share that still overlaps plus the current one's.
# Returns, per entry, -1 (taken) or the milliseconds until one unit frees up.
SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local out = {}
for i, name in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local slot = math.floor(now / window)
  local elapsed = now - slot * window
  local current_key = name .. ':' .. slot
  local current = tonumber(redis.call('GET', current_key) or '0')
  local previous = tonumber(redis.call('GET', name .. ':' .. (slot - 1)) or '0')
  local weighted = previous * (window - elapsed) / window + current
  if weighted + 1 > limit then
    local wait
    if current + 1 > limit then
      -- Into the next window, this one's count still weighs (1 - e/window): wait until it
      -- weighs limit - 1 at most.
      wait = window - elapsed + window * (current + 1 - limit) / current
    elseif previous == 0 then
      wait = window - elapsed
    else
      wait = (weighted + 1 - limit) * window / previous
    end
    out[i] = math.ceil(wait * 1000)
  else
    redis.call('INCR', current_key)
    redis.call('EXPIRE', current_key, math.ceil(window * 2))
    out[i] = -1
  end
end
return out
"""


@functools.lru_cache(maxsize=64)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        self._redis = None
        self._memory = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(redis_url)
            self._script = self._redis.register_script(SLIDING_WINDOW)
            self._checks: Coalescer[tuple[str, int, int]] = Coalescer(self._check_batch)
        else:
            self._memory = MemoryStorage()
            self._strategy = SlidingWindowCounterRateLimiter(self._memory)

    async def hit(self, limit: str | RateLimitItem, *key: str, message: str) -> None:
        """Take one unit or raise RATE_LIMITED with the seconds until one frees up."""
        item = _parsed(limit) if isinstance(limit, str) else limit
        if self._redis is not None:
            name = f"{PREFIX}{item.amount}/{item.get_expiry()}:{':'.join(key)}"
            wait_ms = await self._checks.submit((name, item.amount, item.get_expiry()))
            if wait_ms < 0:
                return
            retry_after = wait_ms / 1000
        else:
            if await self._strategy.hit(item, *key):
                return
            stats = await self._strategy.get_window_stats(item, *key)
            retry_after = stats.reset_time - time.time()
        from api.metrics import RATE_LIMITED

        RATE_LIMITED.labels(limit=key[0] if key else "unnamed").inc()
        raise RateLimited(message, retry_after=max(retry_after, 1))

    async def _check_batch(self, checks: list[tuple[str, int, int]]) -> list[int]:
        args: list[int] = []
        for _, amount, window in checks:
            args += [amount, window]
        return [int(w) for w in await self._script(keys=[name for name, _, _ in checks], args=args)]

    async def reset(self) -> None:
        """Forget every counter (tests)."""
        if self._redis is not None:
            names = [name async for name in self._redis.scan_iter(match=f"{PREFIX}*", count=1000)]
            if names:
                await self._redis.delete(*names)
        else:
            await self._memory.reset()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
