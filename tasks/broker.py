"""The brokers: Redis streams (acknowledged, re-delivered) in production, in-process otherwise.

BUSINESS apps' deliveries go to a second stream served by its own worker process,
so they never queue behind a FREE app's backlog.
"""

from __future__ import annotations

from taskiq import AsyncBroker, InMemoryBroker, TaskiqEvents, TaskiqState

from api.settings import Settings, get_settings

STREAM = "booper"
PRIORITY_STREAM = "booper-priority"


def make_broker(settings: Settings, stream: str) -> AsyncBroker:
    if not settings.redis_url:
        return InMemoryBroker(max_async_tasks=64)
    from taskiq_redis import RedisStreamBroker

    return RedisStreamBroker(
        url=settings.redis_url,
        queue_name=stream,
        consumer_group_name=f"{stream}-workers",
        # A task whose worker died is re-delivered after this long without an ack.
        # The ledger sweep is the real guarantee (see api/delivery/sweep.py).
        idle_timeout=60_000,
        unacknowledged_lock_timeout=30,
    )


settings = get_settings()
broker = make_broker(settings, STREAM)
priority_broker = make_broker(settings, PRIORITY_STREAM) if settings.redis_url else broker


async def _worker_startup(state: TaskiqState) -> None:
    from api.bootstrap import start_runtime

    state.runtime = await start_runtime(get_settings(), broker, priority_broker, migrate=False)


async def _worker_shutdown(state: TaskiqState) -> None:
    from api.bootstrap import stop_runtime

    await stop_runtime(state.runtime)


for _b in {id(broker): broker, id(priority_broker): priority_broker}.values():
    if settings.redis_url:
        _b.add_event_handler(TaskiqEvents.WORKER_STARTUP, _worker_startup)
        _b.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, _worker_shutdown)
