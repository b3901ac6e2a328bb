"""Maintenance tasks: retention by plan, hourly."""

from __future__ import annotations

from api.notifications.retention import apply_retention
from api.runtime import get_runtime
from tasks.broker import broker

RETENTION = "booper.retention"


@broker.task(task_name=RETENTION, schedule=[{"interval": 3600}])
async def run_retention() -> None:
    await apply_retention(get_runtime().settings)
