"""A graphql-transport-ws client (websockets) for the live view."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from dashboard.api_errors import ApiError
from dashboard.client import forwarding_headers, graphql_ws_url, operation


class SubscriptionClient:
    """One graphql-transport-ws connection carrying any number of subscriptions.

    Usage::

        async with SubscriptionClient(token) as live:
            await live.subscribe("LiveNotifications", {"appId": app_id})
            while True:
                event = await live.next_event(timeout=1.0)  # None on timeout
                ...
    """

    PROTOCOL = "graphql-transport-ws"

    def __init__(
        self,
        token: str | None,
        url: str | None = None,
        connect_timeout: float = 10.0,
        client_ip: str | None = None,
    ) -> None:
        self.token = token
        self.client_ip = client_ip
        self.url = url or graphql_ws_url()
        self.connect_timeout = connect_timeout
        self._ws: Any = None
        self._ops: dict[str, str] = {}

    async def __aenter__(self) -> SubscriptionClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        import websockets  # the dashboard's only websocket user

        try:
            self._ws = await asyncio.wait_for(
                websockets.connect(
                    self.url,
                    subprotocols=[self.PROTOCOL],
                    open_timeout=self.connect_timeout,
                    additional_headers=forwarding_headers(self.client_ip),
                ),
                self.connect_timeout + 1,
            )
        except (OSError, TimeoutError) as exc:
            raise ApiError("NETWORK") from exc
        except Exception as exc:  # handshake refused (HTTP status), bad URL
            raise ApiError("NETWORK") from exc
        payload = {"authorization": f"Bearer {self.token}"} if self.token else {}
        await self._send({"type": "connection_init", "payload": payload})
        deadline = asyncio.get_running_loop().time() + self.connect_timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                await self.close()
                raise ApiError("TIMEOUT")
            message = await self._recv(remaining)
            if message is None:
                continue
            kind = message.get("type")
            if kind == "connection_ack":
                return
            if kind == "ping":
                await self._send({"type": "pong"})

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                await ws.close()
            except Exception:
                pass

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def subscribe(self, name: str, variables: dict[str, Any] | None = None) -> str:
        op_id = uuid.uuid4().hex
        self._ops[op_id] = name
        await self._send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {
                    "query": operation(name),
                    "operationName": name,
                    "variables": variables or {},
                },
            }
        )
        return op_id

    async def next_event(self, timeout: float | None = None) -> tuple[str, dict[str, Any]] | None:  # noqa: ASYNC109
        """The next ``(operation name, data)``; None when ``timeout`` passes first.

        Raises ApiError when the server reports an error for a subscription or
        the connection closes.
        """
        message = await self._recv(timeout)
        if message is None:
            return None
        kind = message.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
            return None
        op_name = self._ops.get(str(message.get("id")), "")
        if kind == "next":
            payload = message.get("payload") or {}
            if payload.get("errors"):
                raise ApiError.from_graphql(payload["errors"][0])
            return op_name, payload.get("data") or {}
        if kind == "error":
            errors = message.get("payload") or [{}]
            raise ApiError.from_graphql(
                errors[0] if isinstance(errors, list) and errors else errors
            )
        if kind == "complete":
            self._ops.pop(str(message.get("id")), None)
        return None

    async def events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        while True:
            event = await self.next_event()
            if event is not None:
                yield event

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is None:
            raise ApiError("NETWORK")
        try:
            await self._ws.send(json.dumps(message))
        except Exception as exc:
            await self.close()
            raise ApiError("NETWORK") from exc

    async def _recv(self, timeout: float | None) -> dict[str, Any] | None:  # noqa: ASYNC109
        if self._ws is None:
            raise ApiError("NETWORK")
        try:
            raw = await asyncio.wait_for(self._ws.recv(), timeout)
        except TimeoutError:
            return None
        except Exception as exc:  # ConnectionClosed and friends
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            await self.close()
            if code in (4401, 4403):
                raise ApiError("UNAUTHENTICATED") from exc
            raise ApiError("NETWORK") from exc
        try:
            message = json.loads(raw)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None
