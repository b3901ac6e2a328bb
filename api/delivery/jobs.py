"""What the pipeline's tasks run, and the periodic jobs: defined once, registered on the taskiq
brokers (workers, `booper scheduler`) and run by the embedded runner of `booper serve`.

Each task unpacks ids and calls a domain function a test can call directly.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from taskiq import AsyncBroker

from api.delivery import fanout, pipeline, receipts, sweep
from api.notifications.retention import apply_retention
from api.outage import is_outage
from api.runtime import Runtime, get_runtime
from api.settings import Settings
from api.webhooks import service as webhooks

log = logging.getLogger("booper.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    task_name: str
    run: Callable[[Runtime], Awaitable[object]]
    interval: Callable[[Settings], float]  # seconds, from the settings of the process


async def _retention(runtime: Runtime) -> None:
    await apply_retention(runtime.settings)


async def _trim_streams(runtime: Runtime) -> None:
    from api.brokers import trim_streams

    await trim_streams(runtime)


PERIODIC_JOBS = (
    PeriodicJob(pipeline.SWEEP, sweep.sweep, lambda s: s.periodic_interval),
    # Receipts are asked for once they are due (receipt_delay), at most every 10 s.
    PeriodicJob(pipeline.CHECK_RECEIPTS, receipts.check_receipts,
                lambda s: max(s.periodic_interval, min(10.0, s.receipt_delay))),
    PeriodicJob(pipeline.WEBHOOKS_DUE, webhooks.deliver_due, lambda s: max(s.periodic_interval, 1.0)),
    PeriodicJob(pipeline.RETENTION, _retention, lambda s: 3600.0),
    # Acknowledged tasks out of the Redis streams (api/brokers.py).
    PeriodicJob(pipeline.TRIM_STREAMS, _trim_streams, lambda s: 60.0),
)


async def _riding_out(what: str, work: Awaitable[object]) -> None:
    """A task the database or Redis failed, being away, is a warning: nothing it was to do is lost
    (the sweep re-kicks stalled fan-outs and sends and overdue rows, a periodic job runs again at
    its next tick, due webhooks are found by theirs). taskiq logged each as an error with its
    traceback, every task of a worker while PostgreSQL restarted. A bug still raises."""
    try:
        await work
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("%s not done, database or queue unavailable (%r); picked up again when it is back", what, exc)


async def _fan_out(notification_id: int | list[int]) -> None:
    # Several ids when concurrent sends were kicked together (pipeline.kick_fan_outs).
    if isinstance(notification_id, int):
        await _riding_out(f"fan-out of notification {notification_id}",
                          fanout.fan_out(get_runtime(), notification_id))
    else:
        await _riding_out(f"fan-out of notifications {notification_id}",
                          fanout.fan_out_many(get_runtime(), notification_id))


async def _send_webhooks(webhook_id: int) -> None:
    await _riding_out(f"webhook delivery {webhook_id}", webhooks.deliver(get_runtime(), webhook_id))


async def _push_replacements(notification_id: int) -> None:
    from api.engagement import replacements

    await _riding_out(f"replacements of notification {notification_id}",
                      replacements.push_replacements(get_runtime(), notification_id, owed=True))


def _sender_task(transport: pipeline.Transport) -> Callable[[list[int]], Awaitable[None]]:
    module, name = transport.sender.split(":")
    send = getattr(importlib.import_module(module), name)

    async def send_task(delivery_ids: list[int]) -> None:
        await _riding_out(f"{transport.task_name} of {len(delivery_ids)} deliveries", send(get_runtime(), delivery_ids))

    send_task.__name__ = name
    return send_task


def register_delivery_tasks(broker: AsyncBroker) -> None:
    """Fan-out and every transport's send task: what both queues (main, priority) serve."""
    broker.register_task(_fan_out, task_name=pipeline.FAN_OUT)
    for transport in pipeline.TRANSPORTS.values():
        broker.register_task(_sender_task(transport), task_name=transport.task_name)


def register_maintenance_tasks(broker: AsyncBroker, settings: Settings) -> None:
    """Webhook sends and the periodic jobs, with the label schedules `booper scheduler` fires
    (taskiq wants whole seconds)."""
    broker.register_task(_send_webhooks, task_name=pipeline.SEND_WEBHOOKS)
    broker.register_task(_push_replacements, task_name=pipeline.PUSH_REPLACEMENTS)
    for job in PERIODIC_JOBS:
        every = max(1, round(job.interval(settings)))
        broker.register_task(_periodic_task(job), task_name=job.task_name, schedule=[{"interval": every}])


def _periodic_task(job: PeriodicJob) -> Callable[[], Awaitable[None]]:
    async def periodic_task() -> None:
        await _riding_out(f"periodic job {job.task_name}", job.run(get_runtime()))

    return periodic_task


def start_periodic_jobs(runtime: Runtime) -> None:
    """Embedded default: the same jobs, run in this process without a scheduler."""

    async def every(job: PeriodicJob) -> None:
        interval = job.interval(runtime.settings)
        while True:
            await asyncio.sleep(interval)
            try:
                await job.run(runtime)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed run is retried next interval
                log.exception("periodic job %s failed", job.task_name)

    runtime.extras["periodic"] = [asyncio.create_task(every(job), name=job.task_name) for job in PERIODIC_JOBS]
