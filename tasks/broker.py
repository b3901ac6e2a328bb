"""The worker processes' brokers (`taskiq worker tasks.broker:broker`): api.brokers' pair, with
every pipeline task registered (api/delivery/jobs.py), plus the worker's start-up and shutdown."""

from __future__ import annotations

import gc
import logging

from taskiq import TaskiqEvents, TaskiqState

from api import logs
from api.brokers import StreamBroker, process_brokers  # noqa: F401 - StreamBroker: re-exported for tests
from api.settings import get_settings

settings = get_settings()
# The worker and scheduler processes log as the API does (JSON lines in production); taskiq is
# started with --no-configure-logging so that its own plain-text setup never runs.
logs.configure(settings.production)
broker, priority_broker = process_brokers()


def _not_per_task(record: logging.LogRecord) -> bool:
    return not (isinstance(record.msg, str) and record.msg.startswith("Executing task"))


async def _worker_startup(state: TaskiqState) -> None:
    from api.bootstrap import start_runtime

    # taskiq logs "Executing task" at INFO for every task: a formatted line per send batch is
    # CPU on the hot path. Only that message is dropped ("Listening started" still shows).
    logging.getLogger("taskiq.receiver.receiver").addFilter(_not_per_task)
    state.runtime = await start_runtime(get_settings(), broker, priority_broker, migrate=False, listen=False,
                                        warm_pool=True, pool_size=settings.worker_db_pool)
    # The provider clients (their TLS contexts take a few hundred ms to load) before the first
    # task, not inside it: the first fan-out after a restart is not held up by them.
    from api.delivery.providers import providers

    providers(state.runtime)
    _quiet_collector()


# Generation 0 collected after this many allocations (Python's default: 700).
YOUNG_THRESHOLD = 50_000


def _quiet_collector() -> None:
    """The start-up objects (modules, the schema, the provider clients: about 130,000 tracked) never
    die: out of the collector's sight (gc.freeze), a full collection scans what tasks made since
    instead. Unfrozen, each full collection paused the worker for about 65 ms, four times in S2's
    scenario, a sixth of a 10k fan-out each time it fell inside one. A send batch allocates tens of
    thousands of short-lived objects that reference counting frees: collecting the young generation
    every 700 allocations scanned them about 580 times a scenario for nothing (100 ms), every
    50,000 about 35 times (3 ms); the worker's peak memory did not move."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def _worker_shutdown(state: TaskiqState) -> None:
    from api.bootstrap import stop_runtime

    await stop_runtime(state.runtime)


for _b in {id(broker): broker, id(priority_broker): priority_broker}.values():
    if settings.redis_url:
        _b.add_event_handler(TaskiqEvents.WORKER_STARTUP, _worker_startup)
        _b.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, _worker_shutdown)
