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


async def test_long_lived_connections_leave_the_collectors_sight_and_a_thaw_collects(api, monkeypatch):
    """api/http/app.py: every FREEZE_EVERY WebSockets, gc.freeze(); _thaw_periodically undoes it,
    collects, and freezes again."""
    import asyncio
    import gc

    from api.http import app as http_app

    monkeypatch.setattr(http_app, "FREEZE_EVERY", 2)
    url = api.url.replace("http://", "ws://") + "/graphql"
    frozen = gc.get_freeze_count()
    gc.unfreeze()  # a clean slate: whatever is frozen now comes from the connections below
    try:
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(2):
                ws = await stack.enter_async_context(websockets.connect(url, subprotocols=["graphql-transport-ws"]))
                await ws.send('{"type": "connection_init"}')
                await ws.recv()
            assert gc.get_freeze_count() > 0

        class Cycle:
            pass

        garbage = Cycle()
        garbage.me = garbage
        gc.freeze()  # as if it had been alive at a freeze
        collected = []
        gc.callbacks.append(lambda phase, info: phase == "stop" and collected.append(info["collected"]))
        del garbage
        thaw = asyncio.create_task(http_app._thaw_periodically(0.01))
        await asyncio.sleep(0.1)
        thaw.cancel()
        gc.callbacks.pop()
        assert sum(collected) >= 1  # the frozen cycle was found once thawed
        assert gc.get_freeze_count() > 0  # and what lives was frozen again
    finally:
        if frozen and not gc.get_freeze_count():
            gc.freeze()
