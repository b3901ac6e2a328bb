"""`booper scheduler`: taskiq's scheduler over the periodic jobs' label schedules (api/delivery/jobs.py)."""

from taskiq import TaskiqScheduler
from taskiq.schedule_sources import LabelScheduleSource

from tasks.broker import broker

scheduler = TaskiqScheduler(broker=broker, sources=[LabelScheduleSource(broker)])
