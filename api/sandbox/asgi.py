"""Plain ASGI helpers for the sandbox's HTTP/2 providers (FCM, APNs): read a body, answer JSON."""

from __future__ import annotations

from typing import Any

import orjson

Headers = list[tuple[bytes, bytes]]


async def read_body(receive: Any, limit: int = 1 << 20) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def answer(send: Any, status: int, body: Any = None, headers: Headers | None = None) -> None:
    raw = b"" if body is None else orjson.dumps(body)
    out = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": raw})


def header(scope: dict, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
