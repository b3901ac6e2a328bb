"""The lean HTTP/2 client FCM and APNs share, against a scripted HTTP/2 server over real TLS on
loopback: flow control with a small window, streams spread over connections, GOAWAY, a lost
connection and a request timeout each fail only what they concern, and the next request works."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import pytest

from api.providers import h2frames
from api.providers.h2client import STREAMS_PER_CONNECTION, H2Client, H2Error, H2Timeout
from api.sandbox.h2 import certificate

SMALL_WINDOW = 1000  # the server's stream window: a 5,000-byte body needs WINDOW_UPDATEs


class ScriptedServer:
    """Answers 200 with the body's length; /goaway sends GOAWAY (this stream unprocessed),
    /drop closes the connection, /held answers after 0.1 s and /slow after 0.5 s. Counts connections and peak streams."""

    def __init__(self) -> None:
        self.connections: list[h2.connection.H2Connection] = []
        self.peak_streams: dict[int, int] = {}

    def protocol(self) -> asyncio.Protocol:
        server = self

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport):
                self.transport = transport
                self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
                self.conn.local_settings = h2.settings.Settings(client=False, initial_values={
                    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: SMALL_WINDOW,
                    h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
                self.conn.initiate_connection()
                self.index = len(server.connections)
                server.connections.append(self.conn)
                self.bodies: dict[int, int] = {}
                self.flush()

            def flush(self):
                if not self.transport.is_closing():
                    self.transport.write(self.conn.data_to_send())

            def data_received(self, data):
                for event in self.conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        self.bodies[event.stream_id] = 0
                        self.big = getattr(self, "big", {})
                        self.big[event.stream_id] = len(dict(event.headers).get(b"x-big", b""))
                        path = dict(event.headers)[b":path"].decode()
                        self.paths = getattr(self, "paths", {})
                        self.paths[event.stream_id] = path
                        open_streams = self.conn.open_inbound_streams
                        server.peak_streams[self.index] = max(server.peak_streams.get(self.index, 0), open_streams)
                    elif isinstance(event, h2.events.DataReceived):
                        self.bodies[event.stream_id] += len(event.data)
                        self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        self.answer(event.stream_id, self.paths[event.stream_id])
                self.flush()

            def answer(self, stream_id, path):
                if path == "/goaway":
                    self.conn.close_connection(last_stream_id=stream_id - 2)
                    return
                if path == "/drop":
                    self.transport.close()
                    return
                if path in ("/slow", "/held"):
                    asyncio.get_running_loop().call_later(0.5 if path == "/slow" else 0.1, self.respond, stream_id)
                    return
                self.respond(stream_id)

            def respond(self, stream_id):
                try:
                    body = str(self.bodies[stream_id]).encode()
                    # h2's encoder: Huffman-coded and indexed in its dynamic table, as real servers do.
                    self.conn.send_headers(stream_id, [(":status", "200"), ("content-length", str(len(body))),
                                                       ("x-big-length", str(self.big[stream_id])),
                                                       ("server", "scripted")])
                    self.conn.send_data(stream_id, body, end_stream=True)
                except h2.exceptions.StreamClosedError:
                    return
                self.flush()

        return Protocol()


@pytest.fixture
async def scripted(tmp_path: Path):
    cert, key = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    context.set_alpn_protocols(["h2"])
    script = ScriptedServer()
    server = await asyncio.get_running_loop().create_server(script.protocol, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    client_context = ssl.create_default_context(cafile=str(cert))
    client = H2Client(timeout=0.3, verify=client_context, max_connections=4)
    yield client, f"https://127.0.0.1:{port}", script
    await client.aclose()
    server.close()


async def test_a_body_larger_than_the_window_is_sent_as_the_server_opens_it(scripted):
    client, url, _ = scripted
    response = await client.post(f"{url}/echo", b"x" * 5000, {"content-type": "application/octet-stream"})
    assert response.status_code == 200 and response.content == b"5000"


async def test_a_header_block_larger_than_a_frame_goes_out_in_continuation_frames(scripted):
    """20 KB of headers (more than one 16 KB frame); the answers' headers, Huffman-coded and then
    referring to the server's dynamic table, are read the same each time."""
    client, url, _ = scripted
    for _ in range(3):
        response = await client.post(f"{url}/echo", b"ab", {"x-big": "v" * 20_000})
        assert response.status_code == 200 and response.content == b"2"
        assert response.headers["x-big-length"] == "20000" and response.headers["server"] == "scripted"


async def test_concurrent_requests_spread_over_connections_of_at_most_100_streams(scripted):
    client, url, script = scripted
    responses = await asyncio.gather(*(client.post(f"{url}/held", b"abc", {}) for _ in range(250)))
    assert [r.content for r in responses] == [b"3"] * 250
    assert len(script.connections) == 3  # all 250 in flight at once, 100 per connection
    assert sorted(script.peak_streams.values()) == [50, STREAMS_PER_CONNECTION, STREAMS_PER_CONNECTION]
    await client.post(f"{url}/held", b"abc", {})
    assert len(script.connections) == 3  # the connections are kept for the next requests


async def test_goaway_fails_the_unprocessed_stream_and_the_next_request_uses_a_new_connection(scripted):
    client, url, script = scripted
    assert (await client.post(f"{url}/echo", b"a", {})).status_code == 200
    with pytest.raises(H2Error) as refused:
        await client.post(f"{url}/goaway", b"a", {})
    assert not isinstance(refused.value, H2Timeout) and "GOAWAY" in str(refused.value)
    assert (await client.post(f"{url}/echo", b"ab", {})).content == b"2"
    assert len(script.connections) == 2


async def test_a_lost_connection_fails_its_streams_and_the_next_request_reconnects(scripted):
    client, url, script = scripted
    with pytest.raises(H2Error, match="connection lost"):
        await client.post(f"{url}/drop", b"a", {})
    assert (await client.post(f"{url}/echo", b"abcd", {})).content == b"4"
    assert len(script.connections) == 2


async def test_a_request_times_out_alone_and_the_connection_stays_usable(scripted):
    client, url, script = scripted
    slow = asyncio.ensure_future(client.post(f"{url}/slow", b"a", {}))
    fast = await client.post(f"{url}/echo", b"ab", {})
    with pytest.raises(H2Timeout):
        await slow
    assert fast.content == b"2"
    assert (await client.post(f"{url}/echo", b"abc", {})).content == b"3"
    assert len(script.connections) == 1  # the timed-out stream was reset, not the connection


async def test_plain_http_is_refused():
    client = H2Client(timeout=1)
    with pytest.raises(H2Error, match="TLS only"):
        await client.post("http://127.0.0.1:9/x", b"", {})


class _Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False


async def test_a_body_sent_whole_leaves_nothing_of_its_stream_behind():
    """A connection serves millions of streams: once a body has ended its stream, neither its
    window nor its rest is kept (the client drops its streams' state on the answer, the server
    never gets one for its answers)."""
    connection = h2frames.FrameConnection()
    connection.transport = _Transport()
    connection.stream_windows[1] = h2frames.DEFAULT_WINDOW
    connection.send_body(1, b"x" * 10)
    assert 1 not in connection.stream_windows
    connection.stream_windows[3] = 4  # a small window: the body waits for WINDOW_UPDATE
    connection.send_body(3, b"y" * 10)
    assert connection.pending[3] == b"y" * 6 and connection.stream_windows[3] == 0
    connection.data_received(h2frames.frame(h2frames.WINDOW_UPDATE, 0, 3, (100).to_bytes(4, "big")))
    assert 3 not in connection.pending and 3 not in connection.stream_windows
    connection.flush()
    sent = b"".join(connection.transport.written)
    assert sent.count(b"y") == 10 and sent.count(b"x") == 10
