"""Every HTTP operation has a deadline, and stops when its client leaves.

The cost limit (api/graphql/cost.py) refuses what is expensive on paper; this bounds what
turns out expensive anyway (a large app's unpaged lists, a slow database): after
`request_timeout` seconds the execution is cancelled and answered with a coded error. A
client that disconnects cancels it too: nobody is left to read the answer (an attack query
used to go on for minutes after its client had left).

Cancellation is safe for writes: each mutation's writes are one statement or one transaction,
which a cancellation rolls back, and what runs after a commit (a fan-out kick) is re-done by
the sweep if it is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import ExecutionResult, GraphQLError


def timed_out(seconds: float) -> ExecutionResult:
    return ExecutionResult(
        data=None,
        errors=[
            GraphQLError(
                f"the request took longer than {seconds:g} s and was stopped: ask for less",
                extensions={"code": "INTERNAL_SERVER_ERROR", "timeout": seconds},
            )
        ],
    )


async def _disconnected(receive: Callable[[], Awaitable[dict]]) -> None:
    """Returns when the ASGI server says the client is gone. The body was read before execution,
    so the server has nothing else to deliver here (a GET's empty body is skipped)."""
    while (await receive()).get("type") != "http.disconnect":
        pass


async def within_deadline(execution: Awaitable[ExecutionResult], *, seconds: float, request: Any) -> ExecutionResult:
    """`execution` cancelled after `seconds`, or as soon as the HTTP client disconnects."""
    run = asyncio.ensure_future(execution)
    watchers = [run]
    receive = getattr(request, "receive", None)
    gone = asyncio.ensure_future(_disconnected(receive)) if receive is not None else None
    if gone is not None:
        watchers.append(gone)
    try:
        await asyncio.wait(watchers, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if gone is not None:
            gone.cancel()
        if not run.done():
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run  # its cleanup (rollbacks, pooled connections back) happens now
    if run.cancelled():
        return timed_out(seconds)
    return run.result()
