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
