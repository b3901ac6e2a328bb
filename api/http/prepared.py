"""The front door for prepared sends: POST /graphql bodies whose document has a prepared plan
(api/graphql/fastpath.py) are answered here, before Litestar's dependency chain and
Strawberry's HTTP view; everything else goes on to them untouched, body replayed.

Only plain JSON requests qualify (Content-Type application/json, an Accept that is absent,
*/*, application/json or application/graphql-response+json, no batching, no extensions); the
answer is the view's: status 200 (a plan always executes: no request errors), the negotiated
type, {"data": ...} plus shaped errors.

Bodies the general path must judge go there untouched: an integer of 19 or more digits (orjson
reads one beyond 64 bits as a float, silently: the general path reads it exactly and the JSON
scalar refuses it) and bodies with more brackets than the depth limit could allow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql.context import Context
from api.graphql.errors import shape
from api.graphql.fastpath import PreparedSends
from api.http.negotiation import MAX_DEPTH, negotiate

PLAIN_ACCEPT = {b"", b"*/*", b"application/json", b"application/graphql-response+json"}
LONG_NUMBER = re.compile(rb"\d{19}")


def prepared_sends(prepared: PreparedSends, max_body: int) -> Callable[[ASGIApp], ASGIApp]:
    def middleware(app: ASGIApp) -> ASGIApp:
        async def front_door(scope: Scope, receive: Receive, send: Send) -> None:
            if (scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql"
                    or not prepared.enabled):
                await app(scope, receive, send)
                return
            content_type = accept = b""
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value
                elif name == b"accept":
                    accept = value
            if content_type.split(b";")[0].strip().lower() != b"application/json" or (
                accept.strip().lower() not in PLAIN_ACCEPT
            ):
                await app(scope, receive, send)
                return
            body, complete = await _read(receive, max_body)
            replay = _replaying(body, complete, receive)
            answer = await _answer(prepared, scope, replay, body) if complete else None
            if answer is None:
                await app(scope, replay, send)
                return
            media_type = negotiate(accept.decode("latin-1")).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", media_type), (b"content-length", str(len(answer)).encode()),
            ]})
            await send({"type": "http.response.body", "body": answer})

        return front_door

    return middleware


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, and whether it is all of it (False: over the limit, or the client left)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replaying(body: bytes, complete: bool, receive: Receive) -> Receive:
    """The request again, for the general path: what was read, then the rest as it comes."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": not complete}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _answer(prepared: PreparedSends, scope: Scope, receive: Receive, body: bytes) -> bytes | None:
    if LONG_NUMBER.search(body) or body.count(b"{") + body.count(b"[") > MAX_DEPTH:
        return None
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict) or request.keys() - {"query", "variables", "operationName"}:
        return None
    operation_name = request.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    plan = prepared.plan(request.get("query"), operation_name)
    if plan is None:
        return None
    context = Context(runtime=scope["app"].state.runtime, request=Request(scope, receive))
    # In JSON text a NUL or a lone surrogate can only be written as a \u escape (raw control
    # characters are invalid JSON, and orjson refuses invalid UTF-8): without one, the
    # variables hold neither, and the walk over them is skipped.
    result = await plan.run(context, request.get("variables"), text_checked=b"\\u" not in body)
    if result is None:
        return None
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [shape(error).formatted for error in result.errors]
    return orjson.dumps(response)
