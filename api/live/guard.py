"""Access to a live stream is decided again for its events, not once at subscribe time.

A subscription holds a check (an async function that raises a coded error when the access is
gone, and may return what the stream may still see). The guard runs it before an event when the
hub's access epoch moved (someone, in any process, deleted, unsubscribed, unregistered or revoked
something) or when the last check is older than TTL seconds (what no event announces: a JWT or a
key expiring, a device pruned by its provider). Between those, events pass on the cached verdict,
so a burst of events to 10,000 subscribers costs no queries.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

TTL = 5.0


class StreamGuard:
    def __init__(self, hub: Any, check: Callable[[], Awaitable[Any]], ttl: float = TTL) -> None:
        self._hub = hub
        self._check = check
        self._ttl = ttl
        self._epoch = hub.access_epoch
        self._until = time.monotonic() + ttl
        self.allowed: Any = None

    def start(self, allowed: Any = None) -> None:
        """The subscribe-time check passed with this verdict."""
        self.allowed = allowed

    async def ensure(self) -> Any:
        """The current verdict, checked again if anything may have changed; raises when access is gone."""
        epoch = self._hub.access_epoch
        now = time.monotonic()
        if epoch != self._epoch or now >= self._until:
            # Read the epoch before checking: a change during the check is seen next time.
            self.allowed = await self._check()
            self._epoch = epoch
            self._until = now + self._ttl
        return self.allowed


async def access_withdrawn() -> None:
    """Tell every open stream, in every process, to check its access before its next event.
    Called after a delete, unsubscribe, unregister or revocation has committed."""
    from api.runtime import get_runtime

    try:
        runtime = get_runtime()
    except RuntimeError:  # a one-off command without a running service: no streams to tell
        return
    await runtime.live.access_changed()
