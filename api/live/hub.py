"""A publish/subscribe hub: in memory on the embedded default, across processes through Redis.

Each process keeps its local subscribers in memory; with Redis, one pub/sub
connection per process receives every event and fans it out locally, so the
cost of a subscriber is a queue, not a Redis connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable

import orjson

from api.live.presence import Presence, Watchers
from api.outage import is_outage

log = logging.getLogger("booper.live")
# Redis pub/sub ignores database numbers: two deployments sharing one Redis server on different
# databases (production on /0, staging on /1) would each receive the other's events for the same
# topics ("channel:5" names a different channel in each). The channel carries the number.
REDIS_CHANNEL = "booper:live"
QUEUE_LIMIT = 1000
# Topics of access changes ("access:app:4", "access:device:9", ...): published when access was
# withdrawn (a delete, an unsubscribe, a revoked key) or granted (a device joined a channel). The
# streams that depend on that scope listen to it and check again at once; for a withdrawal every
# process also bumps its access epoch, so open sockets resolve their credentials again before
# their next operation.
ACCESS_PREFIX = "access:"


# A stream's own wake-up (api/live/guard.py): check access now, as an access event does.
WAKE: dict = {"wake": True}


class LiveQueue(asyncio.Queue):
    """A subscriber's queue of events. Events are dropped, oldest first, for a reader that stopped
    reading (QUEUE_LIMIT); access events and wake-ups never are: they set `control`, which the
    reader takes (api/live/guard.py) before it hands out any further event. A withdrawal
    outranks a grant, which outranks a wake-up."""

    def __init__(self) -> None:
        super().__init__(maxsize=QUEUE_LIMIT)
        self.control: dict | None = None

    def offer(self, event: dict) -> None:
        if event is WAKE or "access" in event:
            if _rank(event) > _rank(self.control):
                self.control = event
            if self.full():
                return  # the reader has events to take, and meets `control` before the next one
        elif self.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.get_nowait()
        self.put_nowait(event)

    def take_control(self) -> dict | None:
        control, self.control = self.control, None
        return control


def _rank(event: dict | None) -> int:
    if event is None:
        return 0
    if event is WAKE:
        return 1
    return 2 if event.get("access") == "granted" else 3


def redis_channel(client) -> str:
    """The pub/sub channel of the deployment using this client's database."""
    return f"{REDIS_CHANNEL}:{int(client.connection_pool.connection_kwargs.get('db') or 0)}"


class LiveHub:
    def __init__(self, redis_url: str | None = None) -> None:
        self._subscribers: dict[str, set[LiveQueue]] = defaultdict(set)
        self._redis_url = redis_url
        self._redis = None
        self._channel = REDIS_CHANNEL
        self._listener: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self.access_epoch = 0
        # Which devices hold a live stream, and which topics someone watches (api/live/presence.py).
        self.presence = Presence(self)
        self.watchers = Watchers(self)

    async def start(self, ready_timeout: float = 5.0, *, listen: bool = True) -> None:
        """With Redis: returns once this process is subscribed, so that an event published by any
        process after start() reaches this one's subscribers (or after `ready_timeout`, logged).
        A process that only publishes (`listen=False`, a worker) subscribes to nothing: it would
        receive and decode every delivery event it published, for no one."""
        if self._redis_url and self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self._redis_url)
            self._channel = redis_channel(self._redis)
            if not listen:
                return
            self._ready.clear()
            self._listener = asyncio.create_task(self._listen(), name="live-hub-listener")
            try:
                await asyncio.wait_for(self._ready.wait(), ready_timeout)
            except TimeoutError:
                log.warning("live hub not subscribed to Redis yet; it keeps trying")

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def redis(self):
        """The Redis client shared by this process's live features (presence), None in memory."""
        return self._redis

    @property
    def subscriber_count(self) -> int:
        return sum(len(q) for q in self._subscribers.values())

    async def publish(self, topic: str, event: dict) -> None:
        """Deliver to this process's subscribers, or through Redis to every process's."""
        if self._redis is not None:
            await self._broadcast({"t": topic, "e": event})
            return
        self._dispatch(topic, event)

    async def publish_batch(self, items: list[tuple[list[str], dict]]) -> None:
        """Several events, each to its topics, in one message (concurrent sends, coalesced)."""
        if self._redis is not None:
            await self._broadcast({"m": items})
            return
        for topics, event in items:
            for topic in topics:
                self._dispatch(topic, event)

    async def publish_many(self, topic: str, batch: list[dict]) -> None:
        """Several events to one topic in one message (a batch of delivery changes)."""
        if self._redis is not None:
            await self._broadcast({"t": topic, "b": batch})
            return
        if topic in self._subscribers:
            for event in batch:
                self._dispatch(topic, event)

    async def _broadcast(self, message: dict) -> None:
        """One message to every process through Redis. Live events are best effort (the ledger
        is not): a failure is logged, never raised."""
        try:
            await self._redis.publish(self._channel, orjson.dumps(message))
        except Exception as exc:  # noqa: BLE001 - see docstring
            if is_outage(exc):
                log.warning("live publish through Redis failed, Redis unavailable (%r)", exc)
            else:
                log.exception("live publish through Redis failed")

    async def access_changed(self, *scopes: str, granted: bool = False) -> None:
        """Access within these scopes ("app:4", "channel:7", "device:9", "user:3") was withdrawn, or
        with `granted` widened (a device joined a channel): streams of the scopes check again; only
        a withdrawal makes open sockets resolve their callers again (the access epoch)."""
        if not granted:
            self.access_epoch += 1
        event = {"access": "granted"} if granted else {"access": True}
        await self.publish_batch([([ACCESS_PREFIX + s for s in scopes], event)])

    def new_queue(self) -> LiveQueue:
        return LiveQueue()

    def _dispatch(self, topic: str, event: dict) -> None:
        if topic.startswith(ACCESS_PREFIX) and event.get("access") != "granted":
            self.access_epoch += 1
        for queue in list(self._subscribers.get(topic, ())):
            # A subscriber that stopped reading loses old events instead of growing without
            # bound, never an access event.
            queue.offer(event)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        payload = orjson.loads(message["data"])
                        if "m" in payload:
                            items = [(list(topics), event) for topics, event in payload["m"]]
                        else:  # "ts": one event to several topics, from processes of the previous release
                            topics = payload["ts"] if "ts" in payload else [payload["t"]]
                            items = [(topics, e) for e in (payload["b"] if "b" in payload else [payload["e"]])]
                    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                        log.warning("ignoring a malformed live event")  # not a reason to reconnect
                        continue
                    for topics, event in items:
                        for topic in topics:
                            if topic in self._subscribers or topic.startswith(ACCESS_PREFIX):
                                self._dispatch(topic, event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect and go on
                if is_outage(exc):
                    log.warning("live listener lost Redis (%r); reconnecting", exc)
                else:
                    log.exception("live listener lost Redis; reconnecting")
                self._ready.clear()
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def subscribe(self, topics: Iterable[str]) -> AsyncIterator[dict]:
        """Events of these topics until the caller stops."""
        queue = self.new_queue()
        topics = list(topics)
        self.attach(topics, queue)
        handed = None  # the access event last handed out from `control`
        try:
            while True:
                event = await queue.get()
                # An access event kept aside (never dropped from a full queue) comes first; the
                # same event, queued as well when there was room, is not handed out twice.
                control = queue.take_control()
                if control is not None and control is not WAKE and control is not event:
                    handed = control
                    yield control
                if event is not handed:
                    yield event
        finally:
            self.detach(topics, queue)

    def attach(self, topics: list[str], queue: LiveQueue) -> None:
        """Events of these topics go to `queue` (from new_queue) until detach: for a reader that
        puts its own wake-ups in the same queue (api/live/guard.py)."""
        for topic in topics:
            self._subscribers[topic].add(queue)

    def detach(self, topics: list[str], queue: LiveQueue) -> None:
        for topic in topics:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[topic]
