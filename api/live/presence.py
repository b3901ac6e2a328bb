"""Presence: which devices hold a live connection now, across API processes.

A device's open streams are members of a Redis sorted set `booper:presence:<device id>`, scored
with the time they stop counting; an open stream renews its score every RENEW seconds, so a
process that dies without cleaning up stops counting after TTL. Without Redis (the embedded
default: one process) a counter in memory.

Every online device is also a member of `booper:presence:devices`, scored the same way, so that a
direct send's live event looks up only the devices that can receive it (api/people/service.py,
live_devices), not every device of a thousand persons. A device leaves it at most TTL after its
last stream closed: until then it only widens that lookup. A stream is recorded before it
subscribes to its topics, so an event published after it subscribed finds it; if Redis could not
record it, it is retried every second, and until then other processes take it for absent (its
direct-send events published there are missed, as any live event is while Redis is down). The
scores are each host's clock: hosts must keep their clocks within TTL of each other (NTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

log = logging.getLogger("booper.presence")
PREFIX = "booper:presence:"
ONLINE = "booper:presence:devices"
WATCH_PREFIX = "booper:watch:"
TTL = 60.0
RENEW = 20.0
RETRY = 1.0  # after a failed mark
MARK_TIMEOUT = 2.0


class Presence:
    def __init__(self, hub) -> None:
        self._hub = hub
        self._local: Counter[int] = Counter()

    def connected(self, device_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """The device counts as online while this block runs."""
        return _counted(self._hub, self._local, device_id, PREFIX + str(device_id), also=lambda pipe, now: (
            pipe.zadd(ONLINE, {str(device_id): now + TTL}, gt=True), pipe.zremrangebyscore(ONLINE, "-inf", now)))

    async def online_devices(self, most: int) -> set[int] | None:
        """Every device with a live connection in any process (and for up to TTL one whose last
        closed), in one round trip; None when there are more than `most` (or Redis failed): the
        caller then looks at all its devices instead."""
        local = set(self._local)
        redis = self._hub.redis
        if redis is None:
            return local if len(local) <= most else None
        try:
            members = await redis.zrangebyscore(ONLINE, time.time(), "+inf", start=0, num=most + 1)
        except Exception:  # noqa: BLE001 - best effort: the caller falls back to every device
            log.warning("could not read presence from Redis", exc_info=True)
            return None
        found = {int(m) for m in members} | local
        return found if len(found) <= most else None

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


@contextlib.asynccontextmanager
async def _counted(hub, local: Counter, name: Any, key: str, also=None) -> AsyncIterator[None]:
    """While the block runs, `name` counts in this process (`local`) and, with Redis, as a member
    of the sorted set `key` for every process: recorded before the block starts, renewed every
    RENEW seconds, removed when it ends (or after TTL, if the process dies first)."""
    local[name] += 1
    member = uuid.uuid4().hex
    renewer = None
    try:
        marked = await _mark(hub.redis, key, member, also)
        renewer = asyncio.create_task(_renew(hub, key, member, also, marked), name="presence-renew")
        yield
    finally:
        if renewer is not None:
            renewer.cancel()
            # A renewal in flight must not land after the removal below (and count for TTL more).
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        local[name] -= 1
        if local[name] <= 0:
            del local[name]
        if hub.redis is not None:
            with contextlib.suppress(Exception):
                await hub.redis.zrem(key, member)


async def _renew(hub, key: str, member: str, also, marked: bool) -> None:
    """Every RENEW seconds; after a failed mark, every RETRY seconds until one succeeds: while a
    stream is not marked, other processes take it for absent (no direct-send events, no delivery
    events built for it)."""
    while True:
        await asyncio.sleep(RENEW if marked else RETRY)
        marked = await _mark(hub.redis, key, member, also)


async def _mark(redis, key: str, member: str, also=None) -> bool:
    """`member` of the sorted set `key` counts until TTL from now (and the set's expired members
    go); `also(pipe, now)` adds commands to the same round trip. Best effort, within MARK_TIMEOUT
    (a stalled Redis must not hold a stream's start): False, logged, when it failed."""
    if redis is None:
        return True
    try:
        now = time.time()
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {member: now + TTL})
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.expire(key, int(TTL) + 5)
            if also is not None:
                also(pipe, now)
            await asyncio.wait_for(pipe.execute(), MARK_TIMEOUT)
        return True
    except Exception:  # noqa: BLE001 - presence is best effort; the stream goes on
        log.warning("could not record presence in Redis", exc_info=True)
        return False


class Watchers:
    """The topics someone listens to now, in any process: a publisher about to build costly
    events (a send batch's thousand delivery changes for the dashboard's live view) asks first,
    and builds nothing while nobody watches. A watching stream is a member of
    `booper:watch:<topic>`, recorded before it subscribes and renewed as presence is."""

    def __init__(self, hub) -> None:
        self._hub = hub
        self._local: Counter[str] = Counter()

    def watching(self, topic: str) -> contextlib.AbstractAsyncContextManager[None]:
        """`topic` counts as watched while this block runs."""
        return _counted(self._hub, self._local, topic, WATCH_PREFIX + topic)

    async def watched(self, topic: str) -> bool:
        """Whether a stream in any process listens to `topic` (one round trip; True when Redis
        cannot say: events are then published as before)."""
        if self._local.get(topic):
            return True
        redis = self._hub.redis
        if redis is None:
            return False
        try:
            return await redis.zcount(WATCH_PREFIX + topic, time.time(), "+inf") > 0
        except Exception:  # noqa: BLE001 - see docstring
            return True


def presence_of(runtime) -> Presence:
    return runtime.live.presence
