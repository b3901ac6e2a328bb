"""The Redis rate limiter (api/ratelimit.py): one script decides concurrent checks in order."""

from __future__ import annotations

import asyncio

import pytest

from api.errors import RateLimited
from api.ratelimit import RateLimiter
from tests.support import databases

pytestmark = pytest.mark.redis
REDIS_URL = databases.redis_url(1)


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
    # Up to the window's end plus a tenth of the next (when this window's 10 weigh 9 or less).
    assert len(refused) == 40 and all(1 <= r <= 66 for r in refused)


async def test_keys_and_limits_have_their_own_budgets(limiter):
    assert (await _outcomes(limiter, 3, "2/minute", "app", "1")).count(None) == 2
    assert (await _outcomes(limiter, 3, "2/minute", "app", "2")).count(None) == 2
    assert (await _outcomes(limiter, 3, "3/minute", "app", "1")).count(None) == 3  # another limit, another count


async def test_the_window_slides(limiter):
    import time

    await asyncio.sleep(1.1 - time.time() % 1)  # a tenth into a one-second window (Redis's clock is ours)
    assert (await _outcomes(limiter, 6, "5/second", "ip", "a")).count(None) == 5
    await asyncio.sleep(1.0)
    # Early in the next window the last one's 5 still weigh (4.5 a tenth in): not all free yet...
    assert (await _outcomes(limiter, 5, "5/second", "ip", "a")).count(None) < 5
    await asyncio.sleep(2.0)
    # ...and after a whole window with nothing taken, nothing weighs.
    assert (await _outcomes(limiter, 6, "5/second", "ip", "a")).count(None) == 5


async def test_reset_forgets(limiter):
    assert (await _outcomes(limiter, 2, "1/hour", "auth", "x")).count(None) == 1
    await limiter.reset()
    assert (await _outcomes(limiter, 2, "1/hour", "auth", "x")).count(None) == 1


async def test_waiting_retry_after_is_enough(limiter):
    """retryAfter counts the full window's weight in the next window: waiting it out works."""
    import time

    await asyncio.sleep(1.1 - time.time() % 1)  # a tenth into a one-second window
    outcomes = await _outcomes(limiter, 6, "5/second", "ip", "b")
    (retry_after,) = [o for o in outcomes if o is not None]
    # 0.9 s left of this window, then 5 weighing 4.x until a fifth of the next has passed: 1.1 s.
    assert retry_after == 2  # whole seconds, rounded up (api.errors.RateLimited)
    await asyncio.sleep(retry_after)
    assert (await _outcomes(limiter, 1, "5/second", "ip", "b")) == [None]
