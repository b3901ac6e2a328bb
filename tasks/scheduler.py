"""`booper scheduler`: taskiq's scheduler over the periodic jobs' label schedules (api/delivery/jobs.py)."""

from __future__ import annotations

import logging

from taskiq import ScheduledTask, ScheduleSource, TaskiqScheduler
from taskiq.exceptions import SendTaskError
from taskiq.schedule_sources import LabelScheduleSource

from api.outage import is_outage
from tasks.broker import broker

log = logging.getLogger("booper.scheduler")


class Scheduler(TaskiqScheduler):
    """A periodic job that cannot be kicked while Redis is away is a warning, not an error: its next
    tick (a few seconds later) kicks it again. taskiq's own scheduler left the failure in a task
    nobody awaited, logged as "Task exception was never retrieved" with two tracebacks, every tick
    of every job for as long as Redis was down."""

    async def on_ready(self, source: ScheduleSource, task: ScheduledTask) -> None:
        try:
            await super().on_ready(source, task)
        except SendTaskError as exc:
            if not is_outage(exc.__cause__):
                raise
            log.warning("periodic job %s not queued, Redis unavailable (%r); its next tick queues it",
                        task.task_name, exc.__cause__)


scheduler = Scheduler(broker=broker, sources=[LabelScheduleSource(broker)])
