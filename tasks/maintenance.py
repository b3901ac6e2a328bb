"""Maintenance tasks: webhook deliveries, retention by plan."""

from __future__ import annotations

from api.notifications.retention import apply_retention
from api.runtime import get_runtime
from api.webhooks import service as webhooks
from tasks.broker import broker

RETENTION = "booper.retention"
WEBHOOKS_DUE = "booper.webhooks_due"


@broker.task(task_name=webhooks.SEND_WEBHOOKS)
async def send_webhooks(webhook_id: int) -> None:
    await webhooks.deliver(get_runtime(), webhook_id)


@broker.task(task_name=WEBHOOKS_DUE, schedule=[{"interval": 5}])
async def run_webhooks_due() -> None:
    await webhooks.deliver_due(get_runtime())


@broker.task(task_name=RETENTION, schedule=[{"interval": 3600}])
async def run_retention() -> None:
    await apply_retention(get_runtime().settings)
