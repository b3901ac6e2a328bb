"""The Redis stream broker outlives a Redis blip: its listener waits, re-creates the consumer
group and goes on, so a worker's running sends finish and record what they sent (a listener
that raised ended the worker process, and its sent-but-unrecorded rows went out twice)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
import redis.exceptions
from taskiq import BrokerMessage

from tasks.broker import StreamBroker
from tests.support import databases

pytestmark = pytest.mark.redis
REDIS_URL = databases.redis_url(2)


def _message(body: bytes) -> BrokerMessage:
    return BrokerMessage(task_id=uuid.uuid4().hex, task_name="t", message=body, labels={})


async def _wait_blocked(admin: aioredis.Redis) -> list[dict]:
    for _ in range(100):
        blocked = [c for c in await admin.client_list() if c.get("db") == REDIS_URL.rsplit("/", 1)[1] and c.get("cmd") == "xreadgroup"]
        if blocked:
            return blocked
        await asyncio.sleep(0.02)
    raise AssertionError("the listener never blocked in XREADGROUP")


async def _kill_listener_connection(admin: aioredis.Redis) -> None:
    """What a Redis restart does to the listener's blocked XREADGROUP: its connection drops."""
    for c in await _wait_blocked(admin):
        await admin.client_kill_filter(_id=c["id"])


async def test_the_listener_survives_a_dropped_connection_and_an_emptied_redis():
    stream = f"booper-test-{uuid.uuid4().hex[:8]}"
    broker = StreamBroker(url=REDIS_URL, queue_name=stream, consumer_group_name=f"{stream}-workers",
                          xread_block=300, idle_timeout=60_000, unacknowledged_lock_timeout=5)
    admin = aioredis.Redis.from_url(REDIS_URL)
    await broker.startup()
    listener = broker.listen()
    try:
        await broker.kick(_message(b"before"))
        first = await asyncio.wait_for(anext(listener), 10)
        assert first.data == b"before"
        await first.ack()

        # 1. The connection drops under a blocked read.
        reading = asyncio.ensure_future(anext(listener))
        await _kill_listener_connection(admin)
        await broker.kick(_message(b"after-drop"))
        assert (await asyncio.wait_for(reading, 15)).data == b"after-drop"

        # 2. Redis comes back empty: no stream, no consumer group (the next read says NOGROUP).
        # A message kicked before the worker re-creates its group must still be read.
        await admin.delete(stream)
        await broker.kick(_message(b"after-restart"))
        got = await asyncio.wait_for(anext(listener), 15)
        assert got.data == b"after-restart"
        await got.ack()  # an ack on the re-created stream works; on a vanished one it must not raise
        await admin.delete(stream)
        await got.ack()

        # 3. A flush under a blocked read: Redis answers it with UNBLOCKED.
        await admin.xgroup_create(stream, f"{stream}-workers", id="0", mkstream=True)
        reading = asyncio.ensure_future(anext(listener))
        await _wait_blocked(admin)
        await admin.delete(stream)
        await broker.kick(_message(b"after-flush"))
        assert (await asyncio.wait_for(reading, 15)).data == b"after-flush"
    finally:
        await listener.aclose()
        await admin.delete(stream)
        await admin.aclose()
        await broker.shutdown()


async def test_acknowledged_tasks_leave_the_stream_and_no_other_does():
    """XACK leaves an entry in its stream: every task ever kicked stayed in Redis's memory. The
    trim takes only what every group has read and acknowledged: never a pending task (its worker
    may have died: it is re-delivered) nor an unread one."""
    from api.brokers import _stream_id, trim_acknowledged

    stream, group = f"booper-test-{uuid.uuid4().hex[:8]}", "workers"
    broker = StreamBroker(url=REDIS_URL, queue_name=stream, consumer_group_name=group)
    admin = aioredis.Redis.from_url(REDIS_URL)
    await broker.startup()
    try:
        assert await trim_acknowledged(admin, stream) == 0  # read by nobody yet: all kept
        for i in range(600):
            await broker.kick(_message(str(i).encode()))
        ((_, read),) = await admin.xreadgroup(group, "w1", {stream: ">"}, count=500)
        ids = [entry_id for entry_id, _ in read]
        await admin.xack(stream, group, *ids[:400])  # 400 done, 100 pending, 100 unread
        trimmed = await trim_acknowledged(admin, stream)
        left = [entry_id for entry_id, _ in await admin.xrange(stream)]
        assert 0 < trimmed == 600 - len(left) <= 400, (trimmed, len(left))  # whole nodes of acknowledged
        assert set(ids[400:]) <= set(left)  # every pending one kept...
        last_read = _stream_id(ids[-1])
        assert len([x for x in left if _stream_id(x) > last_read]) == 100  # ...and every unread one
        await admin.xack(stream, group, *ids[400:])
        ((_, rest),) = await admin.xreadgroup(group, "w1", {stream: ">"}, count=500)
        await admin.xack(stream, group, *[entry_id for entry_id, _ in rest])
        await trim_acknowledged(admin, stream)
        assert await admin.xlen(stream) <= 100  # all done: at most the last node is left
    finally:
        await admin.delete(stream)
        await admin.aclose()
        await broker.shutdown()


class _Refusing(StreamBroker):
    """A broker whose kicks fail as `error` says (Redis away, or a bug)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(url="redis://127.0.0.1:1/0", queue_name="unused")
        self.error = error

    async def kick(self, message) -> None:
        raise self.error


@pytest.mark.parametrize("redis_away", [True, False], ids=["redis-away", "a-bug"])
async def test_a_periodic_job_not_queued_while_redis_is_away_is_a_warning(caplog, redis_away):
    """taskiq's scheduler left the failed kick in a task nobody awaited: "Task exception was never
    retrieved", two tracebacks, every tick of every job while Redis was down (a chaos run). The
    next tick queues the job again, so it is a warning; anything but an outage still raises."""
    from taskiq import ScheduledTask
    from taskiq.exceptions import SendTaskError
    from taskiq.schedule_sources import LabelScheduleSource

    from tasks.scheduler import Scheduler

    error = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.") \
        if redis_away else RuntimeError("a bug")
    broker = _Refusing(error)
    scheduler = Scheduler(broker=broker, sources=[LabelScheduleSource(broker)])
    task = ScheduledTask(task_name="booper.sweep", labels={}, args=[], kwargs={}, interval=2)
    if redis_away:
        await scheduler.on_ready(LabelScheduleSource(broker), task)
        assert "periodic job booper.sweep not queued, Redis unavailable" in caplog.text
    else:
        with pytest.raises(SendTaskError):
            await scheduler.on_ready(LabelScheduleSource(broker), task)


@pytest.mark.parametrize("redis_away", [True, False], ids=["redis-away", "a-bug"])
async def test_a_kick_refused_while_redis_is_away_is_a_warning(caplog, redis_away):
    """The sweep re-kicks what a failed kick left (api/queue.py): while Redis restarts that is
    expected, a warning without a traceback; anything else is logged with its traceback."""
    import logging

    from api.queue import TaskQueue

    error = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.") \
        if redis_away else RuntimeError("a bug")
    with caplog.at_level(logging.WARNING, logger="booper.queue"):
        assert await TaskQueue(_Refusing(error)).kick("booper.send_expo", [1, 2]) is False
    (record,) = [r for r in caplog.records if r.name == "booper.queue"]
    assert "could not enqueue booper.send_expo" in record.getMessage()
    assert (record.levelname, record.exc_info is None) == (("WARNING", True) if redis_away else ("ERROR", False))
