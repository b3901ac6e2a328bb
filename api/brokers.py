"""The brokers: Redis streams (acknowledged, re-delivered) in production, in-process otherwise.

BUSINESS apps' deliveries go to a second stream served by its own worker process,
so they never queue behind a FREE app's backlog.

A Redis blip (restart, failover, flush) must only delay deliveries. taskiq-redis's
listener raises on the first connection error or on NOGROUP (an empty Redis has no
stream and no consumer group), which ends the worker process: every task it was running
died with it, including sends whose requests had reached the provider but whose outcomes
were not yet in the ledger, and the sweep sent those rows again once their lease ran out.
So the listener here waits for Redis, re-creates its group and goes on, and the tasks it
is running finish and record what they sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, AsyncBroker, BrokerMessage, InMemoryBroker
from taskiq_redis import RedisStreamBroker

from api.settings import Settings, get_settings

STREAM = "booper"
PRIORITY_STREAM = "booper-priority"
log = logging.getLogger("booper.broker")
REDIS_GONE = (RedisConnectionError, RedisTimeoutError, OSError)


def make_broker(settings: Settings, stream: str) -> AsyncBroker:
    if not settings.redis_url:
        return InMemoryBroker(max_async_tasks=64)
    return StreamBroker(
        url=settings.redis_url,
        queue_name=stream,
        consumer_group_name=f"{stream}-workers",
        # A task whose worker died is re-delivered after this long without an ack.
        # The ledger sweep is the real guarantee (see api/delivery/sweep.py).
        idle_timeout=60_000,
        unacknowledged_lock_timeout=30,
    )


class StreamBroker(RedisStreamBroker):
    """Kicks through one client per process: taskiq-redis builds a Redis client per message,
    about a third of the CPU of each kick."""

    _client: Redis | None = None

    async def kick(self, message: BrokerMessage) -> None:
        if self._client is None:
            self._client = Redis(connection_pool=self.connection_pool)
        await self._client.xadd(
            message.labels.get("queue_name") or self.queue_name,
            {b"data": message.message}, maxlen=self.maxlen, approximate=self.approximate,
        )

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """taskiq-redis's listener, resumed after Redis went away instead of ending the worker."""
        delay = 0.2
        while True:
            try:
                async for message in super().listen():
                    delay = 0.2
                    yield message
            except (*REDIS_GONE, ResponseError) as exc:
                # NOGROUP: an empty Redis has no group; UNBLOCKED: the stream was deleted (a
                # flush) under a blocked read. Any other error is a bug, not a blip.
                if isinstance(exc, ResponseError) and not str(exc).startswith(("NOGROUP", "UNBLOCKED")):
                    raise
                log.warning("Redis went away (%s); listening again in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                await self._recreate_groups()

    async def _recreate_groups(self) -> None:
        """From id 0, not "$": an emptied Redis has only messages kicked since it came back
        (by the API, the sweep, retries), and none of them has been read yet."""
        try:
            async with Redis(connection_pool=self.connection_pool) as conn:
                for stream in {self.queue_name, *self.additional_streams}:
                    try:
                        await conn.xgroup_create(stream, self.consumer_group_name, id="0", mkstream=True)
                        log.warning("re-created consumer group %s on %s", self.consumer_group_name, stream)
                    except ResponseError as exc:  # BUSYGROUP: it survived, or another worker made it
                        if "BUSYGROUP" not in str(exc):
                            raise
        except REDIS_GONE:
            pass  # still down: the next read fails and we come back here

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        """An ack that cannot fail the task: a message lost with its stream needs no ack, and
        the ledger, not the queue, says whether its deliveries went out."""
        ack = super()._ack_generator(id, queue_name)

        async def _ack() -> None:
            try:
                await ack()
            except RedisError as exc:
                log.warning("ack of %s on %s failed (%s); the ledger decides", id, queue_name, exc)

        return _ack

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.aclose(close_connection_pool=False)
            self._client = None
        await super().shutdown()


_brokers: tuple[AsyncBroker, AsyncBroker] | None = None


def _stream_id(value: bytes | str) -> tuple[int, int]:
    ms, _, seq = (value.decode() if isinstance(value, bytes) else value).partition("-")
    return int(ms), int(seq or 0)


async def trim_acknowledged(redis: Redis, stream: str) -> int:
    """Delete the stream's entries that every consumer group has read and acknowledged; how many.

    XACK leaves an entry in its stream, so without this every task ever kicked stayed in Redis's
    memory. Never an entry a group has not read yet (after its last-delivered-id) or still holds
    pending (read, not acknowledged: re-delivered if its worker died); a stream without a group is
    left alone. Trimmed by MINID in whole nodes of the stream (approximate), so cheaply."""
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:  # no such stream
        return 0
    if not groups:
        return 0
    bound: tuple[int, int] | None = None
    for group in groups:
        ms, seq = _stream_id(group["last-delivered-id"])
        first_unread = (ms, seq + 1)
        if group["pending"]:
            summary = await redis.xpending(stream, group["name"])
            first_unread = min(first_unread, _stream_id(summary["min"]))
        bound = first_unread if bound is None else min(bound, first_unread)
    before = await redis.xlen(stream)
    await redis.xtrim(stream, minid=f"{bound[0]}-{bound[1]}", approximate=True)
    return before - await redis.xlen(stream)


async def trim_streams(runtime) -> int:
    """The periodic job: both streams of this deployment (nothing on the embedded default)."""
    settings = runtime.settings
    if not settings.redis_url:
        return 0
    async with Redis.from_url(settings.redis_url) as redis:
        return sum([await trim_acknowledged(redis, stream) for stream in (STREAM, PRIORITY_STREAM)])


def process_brokers() -> tuple[AsyncBroker, AsyncBroker]:
    """This process's (main, priority) brokers, with every pipeline task registered on them.
    One pair per process: the in-process broker that the API kicks is the one that runs tasks."""
    global _brokers
    if _brokers is None:
        from api.delivery import jobs

        settings = get_settings()
        broker = make_broker(settings, STREAM)
        priority = make_broker(settings, PRIORITY_STREAM) if settings.redis_url else broker
        jobs.register_delivery_tasks(broker)
        jobs.register_maintenance_tasks(broker, settings)
        if priority is not broker:
            jobs.register_delivery_tasks(priority)
        _brokers = broker, priority
    return _brokers
