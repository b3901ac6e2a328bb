"""graphql-transport-ws as Booper speaks it: malformed messages close the socket with 4400 (as the
protocol says) instead of crashing the handler, every error a client sees has extensions.code and
goes through the same shaping as over HTTP, and `next` messages are encoded once per shared
result (api/live/shared.py). Also the client address a connection counts against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLSyntaxError
from litestar.exceptions import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from api.graphql.errors import shape, suggestions_allowed
from api.live.shared import next_message

# Operation ids are the client's names for its operations (graphql-ws uses UUIDs): printable
# ASCII and short, so that a close reason naming one fits the 123 bytes a close frame allows.
MAX_ID = 64
TYPES = {"connection_init", "ping", "pong", "subscribe", "complete"}
MAX_REASON = 123  # bytes of a WebSocket close reason (RFC 6455)


def bounded_reason(reason: str) -> str:
    """A close reason a close frame can carry: UTF-8 (lone surrogates replaced), at most 123 bytes."""
    return reason.encode("utf-8", "replace")[:MAX_REASON].decode("utf-8", "ignore")


def _message_problem(message: Any) -> str | None:
    """What is wrong with a client message's shape, or None (the handler checks the rest)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message must be an object with a string type"
    if message["type"] not in TYPES:
        return "unknown message type"  # not echoed: it is the client's text
    if message["type"] != "subscribe":
        return None
    op_id, payload = message.get("id"), message.get("payload")
    if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_ID or not (op_id.isascii() and op_id.isprintable()):
        return f"subscribe needs an id: 1 to {MAX_ID} printable ASCII characters"
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return "subscribe needs a payload with a string query"
    for name, kind in (("variables", dict), ("operationName", str), ("extensions", dict)):
        if payload.get(name) is not None and not isinstance(payload[name], kind):
            return f"subscribe payload's {name} must be {'an object' if kind is dict else 'a string'}"
    return None


def _closes_socket(result: Any) -> bool:
    """Strawberry closes the socket (4400) for these first errors instead of sending them: keep them
    as they are so it still recognises them."""
    first = result.errors[0]
    return isinstance(first, GraphQLSyntaxError) or isinstance(first.original_error, CannotGetOperationTypeError)


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws with shaped errors, checked messages and shared `next` encodings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        close = self.websocket.close

        # Strawberry puts the client's own text in some close reasons (a syntax error's message):
        # one that is not UTF-8 or is longer than a close frame allows failed the whole socket.
        async def bounded_close(code: int, reason: str) -> None:
            await close(code=code, reason=bounded_reason(reason))

        self.websocket.close = bounded_close

    async def handle_message(self, message: Any) -> None:
        problem = _message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        await super()._send_result_stream(operation, self._shaped(result_source))

    async def _shaped(self, results: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Each result's errors as the client may see them: coded, internals masked (the schema's
        ShapeErrors runs only after a whole stream ends, too late for its events)."""
        suggestions = suggestions_allowed(self.context)
        async for result in results:
            if result.errors and not _closes_socket(result):
                result.errors = [shape(e, suggestions=suggestions) for e in result.errors]
            yield result

    async def send_message(self, message: Any) -> None:
        payload = message.get("payload")
        if message.get("type") == "next" and isinstance(payload, dict) and payload.keys() == {"data"}:
            try:
                text = next_message(message["id"], payload["data"])
            except TypeError:  # a value orjson cannot encode: the general path
                pass
            else:
                try:
                    await self.websocket.ws.send_data(data=text)
                except WebSocketDisconnect as exc:
                    raise WebSocketDisconnected from exc
                return
        elif message.get("type") == "error" and isinstance(payload, list):
            # Errors Strawberry makes itself (limits, incremental delivery) have no code yet.
            for error in payload:
                if isinstance(error, dict):
                    error.setdefault("extensions", {}).setdefault("code", "BAD_USER_INPUT")
        await super().send_message(message)
