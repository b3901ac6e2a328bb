"""Presence: which devices hold a live connection now, across API processes.

A device's open streams are members of a Redis sorted set `booper:presence:<device id>`, scored
with the time they stop counting; an open stream renews its score every RENEW seconds, so a
process that dies without cleaning up stops counting after TTL. Without Redis (the embedded
default: one process) a counter in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence

log = logging.getLogger("booper.presence")
PREFIX = "booper:presence:"
TTL = 60.0
RENEW = 20.0


class Presence:
    def __init__(self, hub) -> None:
        self._hub = hub
        self._local: Counter[int] = Counter()

    @contextlib.asynccontextmanager
    async def connected(self, device_id: int) -> AsyncIterator[None]:
        """The device counts as online while this block runs."""
        self._local[device_id] += 1
        member = uuid.uuid4().hex
        renewer = asyncio.create_task(self._renew(device_id, member), name="presence-renew")
        try:
            yield
        finally:
            renewer.cancel()
            self._local[device_id] -= 1
            if self._local[device_id] <= 0:
                del self._local[device_id]
            redis = self._hub.redis
            if redis is not None:
                with contextlib.suppress(Exception):
                    await redis.zrem(PREFIX + str(device_id), member)

    async def _renew(self, device_id: int, member: str) -> None:
        key = PREFIX + str(device_id)
        while True:
            redis = self._hub.redis
            if redis is not None:
                try:
                    now = time.time()
                    async with redis.pipeline(transaction=False) as pipe:
                        pipe.zadd(key, {member: now + TTL})
                        pipe.zremrangebyscore(key, "-inf", now)
                        pipe.expire(key, int(TTL) + 5)
                        await pipe.execute()
                except Exception:  # noqa: BLE001 - presence is best effort; the stream goes on
                    log.warning("could not record presence in Redis", exc_info=True)
            await asyncio.sleep(RENEW)

    async def online(self, device_ids: Sequence[int]) -> set[int]:
        """Of these devices, the ones with a live connection in any process (one round trip)."""
        ids = list(device_ids)
        redis = self._hub.redis
        if redis is None or not ids:
            return {d for d in ids if self._local.get(d)}
        now = time.time()
        async with redis.pipeline(transaction=False) as pipe:
            for d in ids:
                pipe.zcount(PREFIX + str(d), now, "+inf")
            counts = await pipe.execute()
        return {d for d, n in zip(ids, counts, strict=True) if n} | {d for d in ids if self._local.get(d)}


def presence_of(runtime) -> Presence:
    found = runtime.extras.get("presence")
    if found is None:
        found = runtime.extras["presence"] = Presence(runtime.live)
    return found
