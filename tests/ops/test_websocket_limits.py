"""WebSocket connections per client are capped; the rest are refused at the handshake."""

from __future__ import annotations

import contextlib

import pytest
import websockets


async def test_a_client_cannot_open_more_than_its_share_of_websockets(api, settings):
    settings.ws_connections_per_client = 3
    url = api.url.replace("http://", "ws://") + "/graphql"
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(3):
            await stack.enter_async_context(websockets.connect(url, subprotocols=["graphql-transport-ws"]))
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    # Closed connections give their slots back.
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send('{"type": "connection_init"}')
        assert "connection_ack" in await ws.recv()
