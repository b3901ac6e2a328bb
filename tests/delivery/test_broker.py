"""The Redis stream broker outlives a Redis blip: its listener waits, re-creates the consumer
group and goes on, so a worker's running sends finish and record what they sent (a listener
that raised ended the worker process, and its sent-but-unrecorded rows went out twice)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
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


async def test_the_streams_keep_about_the_newest_tasks_not_every_task_ever():
    """XACK leaves an entry in its stream: every task ever kicked stayed in Redis's memory."""
    from api.brokers import make_broker
    from api.settings import Settings

    stream = f"booper-test-{uuid.uuid4().hex[:8]}"
    broker = make_broker(Settings(redis_url=REDIS_URL, queue_max_length=1000), stream)
    admin = aioredis.Redis.from_url(REDIS_URL)
    await broker.startup()
    try:
        for i in range(3000):
            await broker.kick(_message(str(i).encode()))
        length = await admin.xlen(stream)
        assert 1000 <= length < 1500, length  # trimmed in whole nodes of 100 entries
        newest = await admin.xrevrange(stream, count=1)
        assert newest[0][1][b"data"] == b"2999"
    finally:
        await admin.delete(stream)
        await admin.aclose()
        await broker.shutdown()
