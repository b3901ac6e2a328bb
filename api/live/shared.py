"""Live events executed once, not once per subscriber.

A notification sent to a channel with 10,000 live subscribers is the same event for all of
them; what each receives depends only on the event, the operation's document and variables,
and the `Access` it subscribed with (every field of the API answers from the row and its
access, never from who else is connected). So the work is shared at three points:

1. `shared_node` gives every subscriber of one (event, access) the same GraphQL object;
2. `SharedEventExecutor` executes a selection once per (object, operation, variables) and
   hands the same result to every subscription that asks again;
3. `next_message` serializes one result once and splices each subscription's operation id in.

Everything else (validation, the subscription resolver's permission checks, error shaping,
the protocol's state machine) stays Strawberry's, per subscription, as before.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")

# Recent events only: every subscriber of an event asks within the same burst, so a short
# memory is enough and nothing outlives the events it describes for long.
RECENT = 256
_nodes: OrderedDict[int, tuple[object, dict[Any, Any]]] = OrderedDict()
_texts: OrderedDict[int, tuple[object, str]] = OrderedDict()


def _remember(cache: OrderedDict, key: int, value: tuple) -> None:
    cache[key] = value
    if len(cache) > RECENT:
        cache.popitem(last=False)


def shared_node(event: object, access: Any, build: Callable[[], T]) -> T:
    """The GraphQL object for `event` as seen with `access`, built once for all its subscribers.

    `event` is the hub's event object, delivered as the same object to every local
    subscriber; the entry holds it, so its id cannot be reused while the entry lives.
    """
    entry = _nodes.get(id(event))
    if entry is None or entry[0] is not event:
        entry = (event, {})
        _remember(_nodes, id(event), entry)
    nodes = entry[1]
    node = nodes.get(access)
    if node is None:
        node = nodes[access] = build()
        node.__dict__["_live_results"] = {}
    return node


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core executor whose per-event copies share results for shared nodes."""

    _live_key: tuple | None = None
    _live_results: dict | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        if self._live_key is None:
            # Once per subscription: its operation (one object per query text, thanks to the
            # parser cache) and its coerced variables.
            variables = sorted(self.variable_values.coerced.items())
            self._live_key = (id(self.operation), repr(variables))
        results = getattr(payload, "__dict__", {}).get("_live_results")
        if results is not None and (hit := self._shared(results)) is not None:
            return _Done(hit)  # no per-event copy of the executor for a result already there
        executor = super().build_per_event_executor(payload)
        executor._live_results = results
        return executor

    def _shared(self, results: dict) -> Any | None:
        """This subscription's share of a result another one produced, if there is one."""
        entry = results.get(self._live_key)
        # The entry holds its operation: an id reused by another document after the parser
        # cache let the first one go is not the same operation.
        if entry is None or entry[0] is not self.operation:
            return None
        outcome = entry[1]
        if isinstance(outcome, asyncio.Task):
            if outcome.cancelled():
                return None  # cannot happen while shielded, but never hand out a cancelled one
            # Each subscriber waits through its own shield: one that leaves (complete, disconnect)
            # is cancelled alone, the shared execution goes on for the others.
            return outcome if outcome.done() else asyncio.shield(outcome)
        return outcome

    def execute_operation(self, serially: bool | None = None) -> Any:
        results = self._live_results
        if results is None:
            return super().execute_operation(serially)
        hit = self._shared(results)
        if hit is not None:
            return hit
        outcome = super().execute_operation(serially)
        if inspect.isawaitable(outcome):
            # Store the running execution itself: the subscribers woken by the same event all
            # arrive before it finishes, and must wait for it rather than start their own.
            task = asyncio.ensure_future(outcome)
            results[self._live_key] = (self.operation, task)
            return asyncio.shield(task)
        results[self._live_key] = (self.operation, outcome)
        return outcome


class _Done:
    """A per-event executor whose result is already known."""

    __slots__ = ("_result",)

    def __init__(self, result: Any) -> None:
        self._result = result

    def execute_operation(self, serially: bool | None = None) -> Any:  # noqa: ARG002 - the executor's signature
        return self._result


def next_message(operation_id: str, data: object) -> str:
    """The graphql-transport-ws `next` message for a result without errors or extensions:
    the payload is encoded once per result object, the id spliced in per subscription."""
    entry = _texts.get(id(data))
    if entry is None or entry[0] is not data:
        entry = (data, orjson.dumps({"data": data}).decode())
        _remember(_texts, id(data), entry)
    return '{"id":' + orjson.dumps(operation_id).decode() + ',"type":"next","payload":' + entry[1] + "}"
