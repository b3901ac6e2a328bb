"""The doorbell: tasks are kicked by name after commit, carrying ids only (the names and who
kicks what: api/delivery/pipeline.py).

A failed kick is logged, never raised: the row is already in the ledger and the
periodic sweep will kick it again, so a Redis hiccup delays a delivery but
neither loses it nor fails the request that accepted it.
"""

from __future__ import annotations

import logging
from typing import Any

from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker

from api.outage import is_outage

log = logging.getLogger("booper.queue")


class TaskQueue:
    def __init__(self, broker: AsyncBroker, priority_broker: AsyncBroker | None = None) -> None:
        self.broker = broker
        self.priority_broker = priority_broker or broker

    async def kick(self, task_name: str, *args: Any, priority: bool = False, **kwargs: Any) -> bool:
        broker = self.priority_broker if priority else self.broker
        try:
            await AsyncKicker(task_name=task_name, broker=broker, labels={}).kiq(*args, **kwargs)
            return True
        except Exception as exc:  # noqa: BLE001 - the sweep re-kicks; see module docstring
            if is_outage(exc.__cause__ or exc):  # Redis away: expected, and the sweep is there for it
                log.warning("could not enqueue %s, Redis unavailable (%r); the sweep will retry",
                            task_name, exc.__cause__ or exc)
            else:
                log.exception("could not enqueue %s; the sweep will retry", task_name)
            return False
