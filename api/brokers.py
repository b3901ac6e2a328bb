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
        # An acknowledged entry stays in the stream (XACK does not delete it): without a bound
        # every task ever kicked stayed in Redis's memory. Trimmed to about the newest
        # BOOPER_QUEUE_MAX_LENGTH (in whole nodes of the stream, so cheaply); a backlog longer than
        # that loses its oldest tasks, whose rows the ledger sweep kicks again (nothing is lost).
        maxlen=settings.queue_max_length,
        approximate=True,
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
