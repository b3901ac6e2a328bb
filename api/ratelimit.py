"""Rate limits, sliding-window counters: in memory on the embedded default (the `limits`
library), in Redis when configured (shared by every API process). Refusals carry retryAfter.

On Redis, the checks of concurrent requests go together (api/coalesce.py): one script call
decides a batch in order, atomically, so limits stay exact under concurrency and a busy API
process pays about one round trip per batch instead of one per request.

Failure budgets (`reserve` / `refund`) are exact moving windows instead: a log of timestamps,
so "at most N in any window" holds for every span, not just on average. A unit is reserved
before the guarded action and handed back if the action succeeds, so only failures spend it
and concurrent attempts can never overshoot (each holds its unit while it runs).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import secrets
import time
from collections import deque
from dataclasses import dataclass

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


# KEYS[1] a budget's log (a sorted set of reservation ids scored by time); ARGV limit, window
# (seconds), the new reservation's id. Returns -1 (reserved) or the milliseconds until the
# oldest entry leaves the window.
MOVING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.ceil((tonumber(oldest[2]) + window - now) * 1000)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return -1
"""


@dataclass(frozen=True)
class Reservation:
    """One unit of a budget, held until refunded (success) or until it ages out (failure)."""

    name: str
    member: str


def address_bucket(address: str) -> str:
    """The client a limit counts: an IPv4 address, or an IPv6 /64 (one subscriber usually holds
    a whole /64, so per-address IPv6 limits would hand out 2^64 budgets)."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


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
            self._reserve_script = self._redis.register_script(MOVING_WINDOW)
        else:
            self._memory = MemoryStorage()
            self._strategy = SlidingWindowCounterRateLimiter(self._memory)
        # In memory, a budget's log: (time, reservation id) oldest first. The lock makes the
        # check and the append one step even if an await ever creeps in between them.
        self._logs: dict[str, deque[tuple[float, str]]] = {}
        self._logs_lock = asyncio.Lock()

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

    async def reserve(self, amount: int, window: float, *key: str, message: str) -> Reservation:
        """Take one unit of an exact moving-window budget (at most `amount` in any `window`
        seconds) or raise RATE_LIMITED with the seconds until the oldest unit ages out."""
        name = f"{PREFIX}budget:{':'.join(key)}"
        member = secrets.token_hex(8)
        if self._redis is not None:
            wait_ms = int(await self._reserve_script(keys=[name], args=[amount, window, member]))
            if wait_ms < 0:
                return Reservation(name, member)
            retry_after = wait_ms / 1000
        else:
            async with self._logs_lock:
                now = time.time()
                log = self._logs.setdefault(name, deque())
                while log and log[0][0] <= now - window:
                    log.popleft()
                if len(log) < amount:
                    log.append((now, member))
                    return Reservation(name, member)
                retry_after = log[0][0] + window - now
        from api.metrics import RATE_LIMITED

        RATE_LIMITED.labels(limit=key[0] if key else "unnamed").inc()
        raise RateLimited(message, retry_after=max(retry_after, 1))

    async def refund(self, reservation: Reservation) -> None:
        """Hand a unit back: the guarded action succeeded, so it spends nothing."""
        if self._redis is not None:
            await self._redis.zrem(reservation.name, reservation.member)
            return
        async with self._logs_lock:
            log = self._logs.get(reservation.name)
            if log is not None:
                for entry in log:
                    if entry[1] == reservation.member:
                        log.remove(entry)
                        break
                if not log:
                    del self._logs[reservation.name]

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
            self._logs.clear()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
