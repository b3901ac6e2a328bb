"""Delivery tasks: each unpacks ids and calls a domain function a test can call directly."""

from __future__ import annotations

from api.delivery import fanout, receipts, senders, sweep
from api.queue import FAN_OUT, SEND_EXPO, SEND_WEBPUSH
from api.runtime import get_runtime
from tasks.broker import broker, priority_broker, settings

CHECK_RECEIPTS = "booper.check_receipts"
SWEEP = "booper.sweep"


def _register(b) -> None:
    @b.task(task_name=FAN_OUT)
    async def fan_out(notification_id: int | list[int]) -> None:
        # Several ids when concurrent sends were kicked together (sending.dispatch).
        if isinstance(notification_id, int):
            await fanout.fan_out(get_runtime(), notification_id)
        else:
            await fanout.fan_out_many(get_runtime(), notification_id)

    @b.task(task_name=SEND_EXPO)
    async def send_expo(delivery_ids: list[int]) -> None:
        await senders.send_expo(get_runtime(), delivery_ids)

    @b.task(task_name=SEND_WEBPUSH)
    async def send_webpush(delivery_ids: list[int]) -> None:
        await senders.send_webpush(get_runtime(), delivery_ids)


_register(broker)
if priority_broker is not broker:
    _register(priority_broker)

# Periodic jobs, fired by `booper scheduler` (taskiq's scheduler with label schedules).
# Intervals are whole seconds (taskiq's rule); the embedded default runs them in-process.
_every = max(1, round(settings.periodic_interval))


@broker.task(task_name=SWEEP, schedule=[{"interval": _every}])
async def run_sweep() -> None:
    await sweep.sweep(get_runtime())


@broker.task(task_name=CHECK_RECEIPTS, schedule=[{"interval": max(_every, 10)}])
async def run_receipts() -> None:
    await receipts.check_receipts(get_runtime())
