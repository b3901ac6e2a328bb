"""The brokers: Redis streams (acknowledged, re-delivered) in production, in-process otherwise.

BUSINESS apps' deliveries go to a second stream served by its own worker process,
so they never queue behind a FREE app's backlog.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from taskiq import AsyncBroker, BrokerMessage, InMemoryBroker, TaskiqEvents, TaskiqState
from taskiq_redis import RedisStreamBroker

from api.settings import Settings, get_settings

STREAM = "booper"
PRIORITY_STREAM = "booper-priority"


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

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.aclose(close_connection_pool=False)
            self._client = None
        await super().shutdown()


settings = get_settings()
broker = make_broker(settings, STREAM)
priority_broker = make_broker(settings, PRIORITY_STREAM) if settings.redis_url else broker


def _not_per_task(record: logging.LogRecord) -> bool:
    return not (isinstance(record.msg, str) and record.msg.startswith("Executing task"))


async def _worker_startup(state: TaskiqState) -> None:
    from api.bootstrap import start_runtime

    # taskiq logs "Executing task" at INFO for every task: a formatted line per send batch is
    # CPU on the hot path. Only that message is dropped ("Listening started" still shows).
    logging.getLogger("taskiq.receiver.receiver").addFilter(_not_per_task)
    state.runtime = await start_runtime(get_settings(), broker, priority_broker, migrate=False)


async def _worker_shutdown(state: TaskiqState) -> None:
    from api.bootstrap import stop_runtime

    await stop_runtime(state.runtime)


for _b in {id(broker): broker, id(priority_broker): priority_broker}.values():
    if settings.redis_url:
        _b.add_event_handler(TaskiqEvents.WORKER_STARTUP, _worker_startup)
        _b.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, _worker_shutdown)
