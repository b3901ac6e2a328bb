"""A lean HTTP/2 client on the `h2` state machine and asyncio, for FCM and APNs.

httpx's HTTP/2 stack cost about 2 ms of CPU per request (its pool scan, anyio locks and
per-request objects), which capped a worker at a few hundred sends per second. Here a request is
one stream on a long-lived TLS connection (ALPN h2): headers and body written straight to the
transport, the response collected from h2's events by the protocol callbacks, no task per
request. What a provider connection needs is kept: the server's stream limit and flow control
honoured, a few connections per origin opened as the streams in flight need them, GOAWAY and a
lost connection failing only the streams they concern (new requests go to a fresh connection),
and a timeout per request that resets its stream.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import orjson
from hpack import Encoder, NeverIndexedHeaderTuple

WINDOW = 1 << 24  # what we let the server send before we acknowledge (responses are small)
# Streams per connection at most, whatever the server allows: h2 counts a connection's open
# streams by scanning them on every new stream, so a few connections of 100 beat one of 1,000.
STREAMS_PER_CONNECTION = 100
_SECRET_HEADERS = frozenset({b"authorization"})  # never indexed: kept out of HPACK's shared table


class PlainEncoder(Encoder):
    """HPACK without Huffman coding (RFC 7541 makes it optional): coding the bearer token and the
    path, different on every request, in pure Python cost more than the rest of a request."""

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        return super().encode(headers, huffman=False)


def start(connection: h2.connection.H2Connection, transport: asyncio.BaseTransport, settings: dict) -> None:
    """Our preamble and SETTINGS, with WINDOW for the peer's streams and for the connection."""
    connection.encoder = PlainEncoder()
    connection.local_settings = h2.settings.Settings(client=connection.config.client_side, initial_values={
        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: WINDOW, **settings})
    connection.initiate_connection()
    connection.increment_flow_control_window(WINDOW)
    flush(connection, transport)


def receive(connection: h2.connection.H2Connection, transport: asyncio.BaseTransport, data: bytes) -> list | None:
    """h2's events for these bytes; None when the peer broke the protocol (then GOAWAY is sent and
    the connection closed)."""
    try:
        return connection.receive_data(data)
    except h2.exceptions.ProtocolError:
        flush(connection, transport)
        transport.close()
        return None


def flush(connection: h2.connection.H2Connection, transport: Any) -> None:
    data = connection.data_to_send()
    if data and transport is not None and not transport.is_closing():
        transport.write(data)


def send_within_window(connection: h2.connection.H2Connection, stream_id: int, data: bytes) -> bytes:
    """As much of a body as the flow-control windows allow; what is left waits for WINDOW_UPDATE."""
    while data:
        room = min(connection.local_flow_control_window(stream_id), connection.max_outbound_frame_size)
        if room <= 0:
            break
        chunk, data = data[:room], data[room:]
        connection.send_data(stream_id, chunk, end_stream=not data)
    return data


class H2Error(Exception):
    """The request failed on the way (connection lost, refused, reset): no answer was read."""


class H2Timeout(H2Error):
    """No complete answer within the request's timeout."""


class H2Response:
    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # lower-case names
        self.content = content

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _Stream:
    __slots__ = ("future", "status", "headers", "body", "pending", "timer")

    def __init__(self, future: asyncio.Future) -> None:
        self.future = future
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.pending = b""  # request body not yet sent for want of flow-control window
        self.timer: asyncio.TimerHandle | None = None


class _Connection(asyncio.Protocol):
    def __init__(self, authority: bytes) -> None:
        self.authority = authority
        # Our own headers, already lower-case and valid: h2 need not check or rewrite them.
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=None, validate_outbound_headers=False,
            normalize_outbound_headers=False))
        self.streams: dict[int, _Stream] = {}
        self.transport: asyncio.Transport | None = None
        self.usable = True  # False after GOAWAY or loss: no new streams
        self.ready = asyncio.get_running_loop().create_future()  # the server's first SETTINGS
        self.on_capacity: Any = None  # set by the pool: a stream ended, another may start

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        start(self.h2, transport, {h2.settings.SettingCodes.ENABLE_PUSH: 0})

    def data_received(self, data: bytes) -> None:
        events = receive(self.h2, self.transport, data)  # type: ignore[arg-type]
        if events is None:
            self._fail(H2Error("HTTP/2 protocol error"))
            return
        for event in events:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(self, event)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(H2Error(f"connection lost: {exc!r}"))

    # events

    def _response(self, event: h2.events.ResponseReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            for name, value in event.headers:
                if name == b":status":
                    stream.status = int(value)
                else:
                    stream.headers[name.decode("latin-1")] = value.decode("latin-1")

    def _data(self, event: h2.events.DataReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.body.append(event.data)
        if event.flow_controlled_length:
            self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)

    def _ended(self, event: h2.events.StreamEnded) -> None:
        stream = self._pop(event.stream_id)
        if stream is not None and not stream.future.done():
            stream.future.set_result(H2Response(stream.status, stream.headers, b"".join(stream.body)))

    def _reset(self, event: h2.events.StreamReset) -> None:
        stream = self._pop(event.stream_id)
        if stream is not None and not stream.future.done():
            stream.future.set_exception(H2Error(f"stream reset by the server: {event.error_code!r}"))

    def _window(self, event: Any) -> None:
        if not self.ready.done():
            self.ready.set_result(None)
        for stream_id, stream in list(self.streams.items()):
            if stream.pending:
                self._send_body(stream_id, stream)

    def _goaway(self, event: h2.events.ConnectionTerminated) -> None:
        """The server takes no new streams; those above last_stream_id were not processed."""
        self.usable = False
        last = event.last_stream_id if event.last_stream_id is not None else 0
        for stream_id in [s for s in self.streams if s > last]:
            stream = self._pop(stream_id)
            if stream is not None and not stream.future.done():
                stream.future.set_exception(H2Error(f"GOAWAY {event.error_code!r}: not processed"))
        if not self.streams:
            self.transport.close()  # type: ignore[union-attr]

    # requests

    def capacity(self) -> int:
        if not self.usable or not self.ready.done():
            return 0
        return min(self.h2.remote_settings.max_concurrent_streams, STREAMS_PER_CONNECTION) - len(self.streams)

    def start(self, method: bytes, path: bytes, headers: list[tuple[bytes, bytes]], body: bytes,
              timeout: float) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        stream_id = self.h2.get_next_available_stream_id()
        stream = self.streams[stream_id] = _Stream(loop.create_future())
        stream.timer = loop.call_later(timeout, self._timed_out, stream_id)
        # The path differs on every request (APNs: the device token): not indexed, so it does not
        # push the headers that repeat (the bearer token aside, topic, content type) out of the table.
        self.h2.send_headers(stream_id, [(b":method", method), (b":scheme", b"https"), (b":authority", self.authority),
                                         NeverIndexedHeaderTuple(b":path", path), *headers], end_stream=not body)
        if body:
            stream.pending = body
            self._send_body(stream_id, stream)
        self._flush()
        return stream.future

    def _send_body(self, stream_id: int, stream: _Stream) -> None:
        stream.pending = send_within_window(self.h2, stream_id, stream.pending)

    def _timed_out(self, stream_id: int) -> None:
        stream = self._pop(stream_id)
        if stream is None:
            return
        if not stream.future.done():
            stream.future.set_exception(H2Timeout("no answer within the timeout"))
        try:
            self.h2.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
            self._flush()
        except h2.exceptions.ProtocolError:
            pass  # the stream had closed meanwhile

    def _pop(self, stream_id: int) -> _Stream | None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            if stream.timer is not None:
                stream.timer.cancel()
            if self.on_capacity is not None:
                self.on_capacity()
        return stream

    def _fail(self, error: H2Error) -> None:
        self.usable = False
        if not self.ready.done():
            self.ready.set_exception(error)
            self.ready.exception()  # retrieved: whoever awaits it sees it, nobody else must
        for stream_id in list(self.streams):
            stream = self._pop(stream_id)
            if stream is not None and not stream.future.done():
                stream.future.set_exception(error)

    def _flush(self) -> None:
        flush(self.h2, self.transport)


_HANDLERS = {
    h2.events.ResponseReceived: _Connection._response,
    h2.events.DataReceived: _Connection._data,
    h2.events.StreamEnded: _Connection._ended,
    h2.events.StreamReset: _Connection._reset,
    h2.events.WindowUpdated: _Connection._window,
    h2.events.RemoteSettingsChanged: _Connection._window,
    h2.events.ConnectionTerminated: _Connection._goaway,
}


class _Origin:
    """The connections to one host: a new one when every open one has all the streams it allows."""

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        self.host, self.port, self.ssl = host, port, ssl_context
        self.authority = (host if port == 443 else f"{host}:{port}").encode()
        self.max_connections = max_connections
        self.connections: list[_Connection] = []
        self.connecting: asyncio.Future | None = None
        self.waiters: list[asyncio.Future] = []

    async def connection(self, timeout: float) -> _Connection:
        while True:
            self.connections = [c for c in self.connections if c.usable]
            best = max(self.connections, key=_Connection.capacity, default=None)
            if best is not None and best.capacity() > 0:
                return best
            if self.connecting is not None:
                await asyncio.shield(self.connecting)
            elif len(self.connections) < self.max_connections:
                self.connecting = asyncio.ensure_future(self._connect(timeout))
                try:
                    await asyncio.shield(self.connecting)
                finally:
                    self.connecting = None
            else:  # every connection is full: wait for a stream to end
                waiter = asyncio.get_running_loop().create_future()
                self.waiters.append(waiter)
                await waiter

    async def _connect(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self.authority), self.host, self.port, ssl=self.ssl,
                    server_hostname=self.host)
                await connection.ready
        except TimeoutError as exc:
            raise H2Timeout(f"connecting to {self.host}:{self.port}") from exc
        except (OSError, ssl.SSLError) as exc:
            raise H2Error(f"connecting to {self.host}:{self.port}: {exc!r}") from exc
        if connection.transport.get_extra_info("ssl_object").selected_alpn_protocol() != "h2":
            connection.transport.close()
            raise H2Error(f"{self.host}:{self.port} does not speak HTTP/2")
        connection.on_capacity = self._wake
        self.connections.append(connection)

    def _wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        for connection in self.connections:
            connection.usable = False
            if connection.transport is not None:
                connection.transport.close()
        self.connections = []


class H2Client:
    """POST over HTTP/2 to https:// origins, connections kept per origin."""

    def __init__(self, *, timeout: float, verify: ssl.SSLContext | bool | str = True, max_connections: int = 4) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        if isinstance(verify, ssl.SSLContext):
            context = verify
        else:
            context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
            if verify is False:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        self.ssl = context
        self._origins: dict[tuple[str, int], _Origin] = {}

    async def post(self, url: str, content: bytes, headers: Mapping[str, str]) -> H2Response:
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise H2Error(f"HTTP/2 with TLS only, not {url!r}")
        key = (parts.hostname or "", parts.port or 443)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(key[0], key[1], self.ssl, self.max_connections)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = await origin.connection(self.timeout)
        fields = []
        for name, value in headers.items():
            raw, encoded = name.lower().encode(), value.encode()
            fields.append(NeverIndexedHeaderTuple(raw, encoded) if raw in _SECRET_HEADERS else (raw, encoded))
        fields.append((b"content-length", str(len(content)).encode()))
        return await connection.start(b"POST", path.encode(), fields, content, self.timeout)

    async def aclose(self) -> None:
        for origin in self._origins.values():
            origin.close()
        self._origins.clear()
