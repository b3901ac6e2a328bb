"""The Redis rate limiter (api/ratelimit.py): one script decides concurrent checks in order."""

from __future__ import annotations

import asyncio

import pytest

from api.errors import RateLimited
from api.ratelimit import RateLimiter
from tests.support import databases

pytestmark = pytest.mark.redis
REDIS_URL = databases.REDIS_URL.rsplit("/", 1)[0] + "/14"


@pytest.fixture
async def limiter():
    limiter = RateLimiter(REDIS_URL)
    await limiter.reset()
    yield limiter
    await limiter.reset()
    await limiter.close()


async def _outcomes(limiter: RateLimiter, n: int, limit: str, *key: str) -> list[float | None]:
    async def one() -> float | None:
        try:
            await limiter.hit(limit, *key, message="slow down")
        except RateLimited as exc:
            return exc.extensions["retryAfter"]
        return None

    return await asyncio.gather(*(one() for _ in range(n)))


async def test_concurrent_hits_are_exact_and_say_when_to_retry(limiter):
    outcomes = await _outcomes(limiter, 50, "10/minute", "app", "1")
    assert outcomes.count(None) == 10
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 40 and all(1 <= r <= 60 for r in refused)


async def test_keys_and_limits_have_their_own_budgets(limiter):
    assert (await _outcomes(limiter, 3, "2/minute", "app", "1")).count(None) == 2
    assert (await _outcomes(limiter, 3, "2/minute", "app", "2")).count(None) == 2
    assert (await _outcomes(limiter, 3, "3/minute", "app", "1")).count(None) == 3  # another limit, another count


async def test_the_window_slides(limiter):
    import time

    await asyncio.sleep(1.1 - time.time() % 1)  # a tenth into a one-second window (Redis's clock is ours)
    assert (await _outcomes(limiter, 6, "5/second", "ip", "a")).count(None) == 5
    await asyncio.sleep(1.0)
    # A tenth into the next window the last one's 5 still weigh 4.5: nothing frees up yet...
    assert (await _outcomes(limiter, 5, "5/second", "ip", "a")).count(None) == 0
    await asyncio.sleep(1.0)
    # ...and a window later they weigh nothing.
    assert (await _outcomes(limiter, 6, "5/second", "ip", "a")).count(None) == 5


async def test_reset_forgets(limiter):
    assert (await _outcomes(limiter, 2, "1/hour", "auth", "x")).count(None) == 1
    await limiter.reset()
    assert (await _outcomes(limiter, 2, "1/hour", "auth", "x")).count(None) == 1
