"""The worker processes' brokers (`taskiq worker tasks.broker:broker`): api.brokers' pair, with
every pipeline task registered (api/delivery/jobs.py), plus the worker's start-up and shutdown."""

from __future__ import annotations

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


async def _worker_shutdown(state: TaskiqState) -> None:
    from api.bootstrap import stop_runtime

    await stop_runtime(state.runtime)


for _b in {id(broker): broker, id(priority_broker): priority_broker}.values():
    if settings.redis_url:
        _b.add_event_handler(TaskiqEvents.WORKER_STARTUP, _worker_startup)
        _b.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, _worker_shutdown)
