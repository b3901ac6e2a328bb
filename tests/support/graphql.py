"""A small GraphQL client for tests: HTTP through httpx, subscriptions over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets


class GraphQLError(AssertionError):
    pass


class GraphQLClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=15)
        # Device keys by push token, as a device app keeps the key registerDevice gave it: a request
        # whose variables name a token this client registered carries that key (X-Device-Key) unless
        # the call says otherwise (device_key="..." or device_key=None for none at all).
        self.device_keys: dict[str, str] = {}

    def remember(self, body: dict) -> None:
        """Keep the device keys a response hands out (registerDevice, verifyDevice)."""
        for value in (body.get("data") or {}).values():
            if isinstance(value, dict) and isinstance(value.get("deviceKey"), str):
                token = (value.get("device") or {}).get("token")
                if isinstance(token, str):
                    self.device_keys[token] = value["deviceKey"]

    def key_for(self, variables: dict | None) -> str | None:
        for value in (variables or {}).values():
            if isinstance(value, str) and value in self.device_keys:
                return self.device_keys[value]
            if isinstance(value, dict):
                found = self.key_for(value)
                if found:
                    return found
        return None

    async def __aenter__(self) -> GraphQLClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def raw(
        self,
        query: str,
        variables: dict | None = None,
        *,
        token: str | None = None,
        api_key: str | None = None,
        headers: dict | None = None,
        device_key: str | None | object = ...,
    ) -> dict:
        h = dict(headers or {})
        if token:
            h["authorization"] = f"Bearer {token}"
        if api_key:
            h["x-api-key"] = api_key
        key = self.key_for(variables) if device_key is ... else device_key
        if key:
            h["x-device-key"] = key
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)
        assert response.status_code == 200, response.text
        body = response.json()
        self.remember(body)
        return body

    async def ok(self, query: str, variables: dict | None = None, **auth: Any) -> dict:
        """The data of a response that must have no errors."""
        body = await self.raw(query, variables, **auth)
        if body.get("errors"):
            raise GraphQLError(f"unexpected errors: {body['errors']}")
        return body["data"]

    async def error(self, query: str, variables: dict | None = None, **auth: Any) -> dict:
        """The first error of a response that must have one (message, extensions)."""
        body = await self.raw(query, variables, **auth)
        if not body.get("errors"):
            raise GraphQLError(f"expected an error, got data {body.get('data')}")
        return body["errors"][0]

    async def code(self, query: str, variables: dict | None = None, **auth: Any) -> str:
        return (await self.error(query, variables, **auth))["extensions"]["code"]

    @asynccontextmanager
    async def subscribe(self, query: str, variables: dict | None = None, *, connection_params: dict | None = None):
        """Yields an async function returning the next payload (or raising on error)."""
        ws_url = self.url.replace("http://", "ws://") + "/graphql"
        params = dict(connection_params or {})
        if "deviceKey" not in params and (key := self.key_for(variables)):
            params["deviceKey"] = key
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": params}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ack["type"] == "connection_ack", ack
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": query, "variables": variables or {}}}))

            async def next_payload(timeout: float = 5) -> dict:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                    if message["type"] == "next":
                        return message["payload"]
                    if message["type"] in ("error", "complete"):
                        raise GraphQLError(f"subscription ended: {message}")

            yield next_payload


async def ws_execute(url: str, query: str, variables: dict | None = None, *, connection_params: dict | None = None,
                     trigger=None, timeout: float = 5) -> dict:
    """One operation over graphql-transport-ws, answered like an HTTP body: {"data", "errors"}.

    A query or mutation gives its single result. A subscription gives its first event, after
    `trigger` (an async callable, e.g. a send) runs once the operation is accepted. An `error`
    message becomes {"errors": [...]}; the connection being closed becomes {"closed": code}."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": connection_params or {}}))
        try:
            ack = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        except websockets.ConnectionClosed as exc:
            return {"closed": exc.rcvd.code if exc.rcvd else None}
        assert ack["type"] == "connection_ack", ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": query, "variables": variables or {}}}))
        if trigger is not None:
            # Give the server a moment to run the subscription's checks before the event is made.
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except TimeoutError:
                message = None
            if message is not None:
                return _as_body(message)
            await trigger()
        while True:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            except websockets.ConnectionClosed as exc:
                return {"closed": exc.rcvd.code if exc.rcvd else None}
            if message["type"] in ("next", "error"):
                return _as_body(message)
            if message["type"] == "complete":
                return {"data": None, "errors": [{"message": "completed without a result", "extensions": {}}]}


def _as_body(message: dict) -> dict:
    if message["type"] == "error":
        return {"data": None, "errors": message["payload"]}
    return message["payload"]


class Socket:
    """One graphql-transport-ws connection for several operations, as a live client holds it."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self._ids = 0
        self._inbox: dict[str, asyncio.Queue] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if "id" in message:
                    self._inbox.setdefault(message["id"], asyncio.Queue()).put_nowait(message)
        except websockets.ConnectionClosed:
            pass
        for queue in self._inbox.values():
            queue.put_nowait({"type": "closed"})

    async def start(self, query: str, variables: dict | None = None) -> str:
        self._ids += 1
        op_id = str(self._ids)
        self._inbox.setdefault(op_id, asyncio.Queue())
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe",
                                       "payload": {"query": query, "variables": variables or {}}}))
        return op_id

    async def receive(self, op_id: str, timeout: float = 5) -> dict:
        """The operation's next message: {"type": "next"|"error"|"complete"|"closed", ...}."""
        return await asyncio.wait_for(self._inbox[op_id].get(), timeout)

    async def execute(self, query: str, variables: dict | None = None, timeout: float = 5) -> dict:
        """A query or mutation on this socket, answered like an HTTP body."""
        message = await self.receive(await self.start(query, variables), timeout)
        if message["type"] == "closed":
            return {"closed": True}
        return _as_body(message)

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


@asynccontextmanager
async def socket(url: str, connection_params: dict | None = None):
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": connection_params or {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        s = Socket(ws)
        try:
            yield s
        finally:
            s._reader.cancel()
