"""Group commit for round trips: callers that arrive while one batch is on the wire go together
in the next, so N concurrent requests cost about one round trip each batch instead of N.

Nothing waits for company: a lone caller's batch leaves on the next turn of the event loop.
Each caller still awaits its own batch's outcome (and gets its exception), so a request
answers only after its part is done, exactly as when it went alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    """`flush(items)` does one batch; it returns nothing, or one result per item (in order),
    which is what that item's `submit` returns."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[Sequence[Any] | None]], *, max_batch: int = 256) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None

    async def submit(self, item: T) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((item, future))
        if self._drainer is None or self._drainer.done() or self._drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        # Shielded: a caller that goes away (a client disconnecting) does not take the batch
        # down with it; its item is sent with the others all the same.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                results = await self._flush([item for item, _ in batch])
                for i, (_, future) in enumerate(batch):
                    if not future.done():
                        future.set_result(None if results is None else results[i])
            except BaseException as exc:
                # Every caller of the batch hears of it, whatever it was (a cancellation too):
                # none may wait forever on a batch that is over.
                error = exc if isinstance(exc, Exception) else RuntimeError(f"batch interrupted: {exc!r}")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if not isinstance(exc, Exception):
                    raise
