"""`booper scheduler`: taskiq's scheduler over the label schedules in tasks.delivery."""

from taskiq import TaskiqScheduler
from taskiq.schedule_sources import LabelScheduleSource

import tasks.delivery  # noqa: F401 - registers the tasks and their schedules
import tasks.maintenance  # noqa: F401
from tasks.broker import broker

scheduler = TaskiqScheduler(broker=broker, sources=[LabelScheduleSource(broker)])
