"""Pacing of Expo sends to the per-second limit, measured end to end against the sandbox."""

import asyncio
import time

from exponent_server_sdk import PushMessage

from api.providers.expo import ExpoClient
from api.providers.pacing import TokenBucket


def batch(n: int) -> list[PushMessage]:
    return [PushMessage(to=f"ExponentPushToken[p{i}]", body="x") for i in range(n)]


def test_bucket_does_not_delay_under_the_rate():
    bucket = TokenBucket(rate=100)
    assert bucket.reserve(60) == 0
    assert bucket.reserve(40) == 0
    assert 0.49 < bucket.reserve(50) <= 0.5  # the burst is spent: 50 more cost 0.5 s


async def test_under_the_rate_no_wait(sandbox):
    expo = ExpoClient(base_url=sandbox.base_url, rate=200)
    try:
        started = time.perf_counter()
        outcomes = await expo.send(batch(50))
        assert time.perf_counter() - started < 0.2
        assert all(o.ok for o in outcomes)
    finally:
        await expo.close()


async def test_over_the_rate_waits(sandbox):
    expo = ExpoClient(base_url=sandbox.base_url, rate=200)
    try:
        started = time.perf_counter()
        for _ in range(3):  # 300 messages at 200/s with a one-second burst: 0.5 s of waiting
            await expo.send(batch(100))
        elapsed = time.perf_counter() - started
        assert 0.48 <= elapsed < 1.0
        assert sandbox.stats()["messages"]["expo"] == 300
    finally:
        await expo.close()


async def test_concurrent_callers_share_the_rate(sandbox):
    expo = ExpoClient(base_url=sandbox.base_url, rate=200)
    try:
        started = time.perf_counter()
        results = await asyncio.gather(*(expo.send(batch(100)) for _ in range(4)))
        elapsed = time.perf_counter() - started
        # 400 messages, 200 of them as the burst, 200 more at 200/s: one second.
        assert 0.98 <= elapsed < 1.6
        assert sum(o.ok for outcomes in results for o in outcomes) == 400
    finally:
        await expo.close()
