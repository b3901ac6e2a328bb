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


async def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_client(api, settings):
    """Every client arrives from the proxy's address: counting that would let one client lock all
    the others out (and counting the header from anyone else would let a client dodge the limit)."""
    settings.ws_connections_per_client = 2
    url = api.url.replace("http://", "ws://") + "/graphql"

    def connect(forwarded: str):
        return websockets.connect(url, subprotocols=["graphql-transport-ws"],
                                  additional_headers={"x-forwarded-for": forwarded})

    settings.trusted_proxies = "127.0.0.1/32"
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(2):
            await stack.enter_async_context(connect("203.0.113.7"))
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await connect("203.0.113.7")  # that client's share is used up...
        # ...but other clients behind the same proxy still get theirs; a spoofed hop left of the
        # client's own address changes nothing (the walk stops at the first untrusted hop).
        other = await stack.enter_async_context(connect("198.51.100.9"))
        await other.send('{"type": "connection_init"}')
        assert "connection_ack" in await other.recv()
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await connect("10.9.9.9, 203.0.113.7")
    settings.trusted_proxies = ""
    async with contextlib.AsyncExitStack() as stack:
        for hop in ("192.0.2.1", "192.0.2.2"):  # untrusted peer: its header is not believed
            await stack.enter_async_context(connect(hop))
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await connect("192.0.2.3")


async def test_the_websocket_share_is_per_ipv6_slash_64(api, settings):
    settings.ws_connections_per_client = 2
    settings.trusted_proxies = "127.0.0.1/32"
    url = api.url.replace("http://", "ws://") + "/graphql"

    def connect(forwarded: str):
        return websockets.connect(url, subprotocols=["graphql-transport-ws"],
                                  additional_headers={"x-forwarded-for": forwarded})

    async with contextlib.AsyncExitStack() as stack:
        for host in ("2001:db8:5:6::1", "2001:db8:5:6::2"):
            await stack.enter_async_context(connect(host))
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await connect("2001:db8:5:6::ffff")  # the same /64: its share is used up
        await stack.enter_async_context(connect("2001:db8:5:7::1"))  # another /64 has its own
