"""Access to a live stream is decided again while it runs, not once at subscribe time.

A stream holds a check: an async function that raises a coded error when the access is gone and
returns what the stream may still see. The check runs again:
- at once when access in one of the stream's scopes changes ("app:4", "channel:7", "device:9",
  "user:3": a delete, an unsubscribe, an unregister, a revoked key; or a grant: a device that
  joins a channel), in any process: the hub delivers that as an event on the scope's access topic;
- once more RECHECK_AFTER seconds after such a change, when other processes' credential caches
  (5 s) have certainly let go of what was revoked;
- when the caller's login expires, and every TTL seconds for credentialed streams (what nothing
  announces), through a wake-up put in the stream's own queue, so a silent stream ends too.
Between those, events pass on the cached verdict: a burst to 10,000 subscribers costs no queries.

A stream whose topics depend on its access (a device's: its channels) passes `follow`, which
maps a check's verdict to the topics and scopes to listen to: after each check the stream
listens to those, so a channel joined while the stream is open arrives on it, and one left is
no longer listened to.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from api.live.hub import ACCESS_PREFIX, WAKE

TTL = 60.0
RECHECK_AFTER = 5.5  # the API-key cache's TTL (api/apps/keycache.py), and a little more


class StreamGuard:
    def __init__(
        self,
        hub: Any,
        check: Callable[[], Awaitable[Any]],
        scopes: list[str],
        *,
        ttl: float | None = TTL,
        expires_at: float | None = None,
        follow: Callable[[Any], tuple[list[str], list[str]]] | None = None,
    ) -> None:
        self._hub = hub
        self._check = check
        self._ttl = ttl
        self._expires_at = expires_at  # wall clock (a JWT's exp)
        self.topics = [ACCESS_PREFIX + s for s in scopes]
        self._follow = follow
        self.queue = hub.new_queue()
        self._timer: asyncio.TimerHandle | None = None
        self._every: list[str] = []
        self.allowed: Any = None

    async def start(self, topics: list[str]) -> None:
        """Listen to `topics` and the stream's access topics, then check: an access change made
        while the subscription was being set up is already queued, so it is never missed."""
        self._every = [*topics, *self.topics]
        self._hub.attach(self._every, self.queue)
        try:
            self.allowed = await self._check()
        except BaseException:
            self.stop()
            raise
        self._refollow()
        self._schedule(self._ttl)

    def stop(self) -> None:
        self._hub.detach(self._every, self.queue)
        if self._timer is not None:
            self._timer.cancel()

    async def next_event(self) -> dict:
        """The next event the caller may still have (self.allowed says what it may see); raises the
        check's error, ending the stream, when access is gone. A plain coroutine, not a generator
        around the hub's: a burst to 10,000 subscribers is made of these hops."""
        queue = self.queue
        while True:
            event = await queue.get()
            # The queue keeps the strongest access event or wake-up aside (it is never dropped,
            # even from a full queue): it is acted on before any further event is handed out.
            control = queue.take_control()
            if control is not None:
                self.allowed = await self._check()
                self._refollow()
                # A withdrawal is checked again once other processes' key caches have let go; a
                # grant (or the periodic wake-up) needs no second look before the next period.
                again = control is not WAKE and control.get("access") != "granted"
                self._schedule(RECHECK_AFTER if again else self._ttl)
            if event is WAKE or "access" in event:
                continue
            return event

    def _refollow(self) -> None:
        """Listen to what the latest verdict says (with `follow`): new topics attached, gone ones
        detached. Attached after the check that granted them: an event published between the grant
        and this reaches the inbox, not this stream."""
        if self._follow is None:
            return
        topics, scopes = self._follow(self.allowed)
        every = [*topics, *(ACCESS_PREFIX + s for s in scopes)]
        now, before = set(every), set(self._every)
        self._hub.attach([t for t in every if t not in before], self.queue)
        self._hub.detach([t for t in self._every if t not in now], self.queue)
        self._every = every

    def _schedule(self, delay: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._expires_at is not None:
            until_expiry = max(0.0, self._expires_at - time.time()) + 0.05
            delay = until_expiry if delay is None else min(delay, until_expiry)
        if delay is not None:
            self._timer = asyncio.get_running_loop().call_later(delay, self._wake)

    def _wake(self) -> None:
        self.queue.offer(WAKE)


async def access_changed(*scopes: str, granted: bool = False) -> None:
    """Tell the open streams of these scopes, in every process, to check their access now.
    Called after a delete, unsubscribe, unregister or revocation has committed, or with `granted`
    after a device joined channels (its streams start listening to them)."""
    from api.runtime import get_runtime

    try:
        runtime = get_runtime()
    except RuntimeError:  # a one-off command without a running service: no streams to tell
        return
    await runtime.live.access_changed(*scopes, granted=granted)
