"""A lean HTTP/2 client for FCM and APNs, on asyncio and api/providers/h2frames.py.

httpx's HTTP/2 stack cost about 2 ms of CPU per request (its pool scan, anyio locks and
per-request objects), and the `h2` state machine under a lean client still about 170 us. Here a
request is one stream on a long-lived TLS connection (ALPN h2): its header block is the bytes
cached for its headers plus its path, written with its body as two frames in the event loop
turn's one write, the response collected by the protocol callbacks, no task per request and one
timer per connection (the requests share a timeout, so their deadlines come in order). What a
provider connection needs is kept: the server's stream limit and flow control honoured, a few
connections per origin opened as the streams in flight need them, GOAWAY and a lost connection
failing only the streams they concern (new requests go to a fresh connection), and a timeout per
request that resets its stream.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from api.providers import h2frames
from api.providers.h2frames import FrameConnection, ProtocolFailure, field, header_frames, name_prefix, with_value

# Streams per connection at most, whatever the server allows (FCM's usual limit): a few
# connections of 100 spread the work of a large fan-out over as many TLS sessions.
STREAMS_PER_CONNECTION = 100
_SECRET_HEADERS = frozenset({b"authorization"})  # never indexed
_LAST_STREAM_ID = 2**31 - 1
_PATH, _CONTENT_LENGTH = name_prefix(b":path"), name_prefix(b"content-length")


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
    __slots__ = ("future", "status", "headers", "body", "deadline", "received")

    def __init__(self, future: asyncio.Future, deadline: float) -> None:
        self.future = future
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.deadline = deadline
        self.received = 0  # DATA bytes not yet acknowledged with a stream WINDOW_UPDATE


class _Connection(FrameConnection):
    def __init__(self, authority: bytes) -> None:
        super().__init__()
        # :method POST, :scheme https (both in HPACK's static table) and :authority, the same
        # bytes at the start of every request's header block.
        self.prefix = b"\x83\x87" + field(b":authority", authority)
        self.streams: dict[int, _Stream] = {}  # in the order they started: their deadlines' order
        self.next_stream_id = 1
        self.usable = True  # False after GOAWAY or loss: no new streams
        self.ready = self.loop.create_future()  # the server's first SETTINGS
        self.on_capacity: Any = None  # set by the pool: a stream ended, another may start
        self._timer: asyncio.TimerHandle | None = None

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.start({h2frames.ENABLE_PUSH: 0})

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(H2Error(f"connection lost: {exc!r}"))

    def protocol_failed(self, failure: ProtocolFailure) -> None:
        super().protocol_failed(failure)
        self._fail(H2Error(f"HTTP/2 protocol error: {failure}"))

    # frames

    def on_settings(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def on_headers(self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        if stream.status == 0 or 100 <= stream.status < 200:  # the response's (trailers are ignored)
            fields = {}
            for name, value in headers:
                if name == b":status":
                    stream.status = int(value)
                else:
                    fields[name.decode("latin-1")] = value.decode("latin-1")
            if not 100 <= stream.status < 200:
                stream.headers = fields
        if end_stream:
            self._ended(stream_id)

    def on_data(self, stream_id: int, data: bytes, size: int, end_stream: bool) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            self.received += size  # the connection's window still counts it
        else:
            stream.received = self.acknowledge(stream_id, stream.received, size)
            stream.body.append(data)
            if end_stream:
                self._ended(stream_id)

    def _ended(self, stream_id: int) -> None:
        if stream_id in self.pending:  # the server answered before it had all the body
            self.reset(stream_id, h2frames.CANCEL)
        stream = self._pop(stream_id)
        if stream is not None and not stream.future.done():
            stream.future.set_result(H2Response(stream.status, stream.headers, b"".join(stream.body)))

    def on_reset(self, stream_id: int, code: int) -> None:
        stream = self._pop(stream_id)
        if stream is not None and not stream.future.done():
            stream.future.set_exception(H2Error(f"stream reset by the server: {h2frames.describe(code)}"))

    def on_goaway(self, last_stream_id: int, code: int) -> None:
        """The server takes no new streams; those above last_stream_id were not processed."""
        self.usable = False
        for stream_id in [s for s in self.streams if s > last_stream_id]:
            stream = self._pop(stream_id)
            if stream is not None and not stream.future.done():
                stream.future.set_exception(H2Error(f"GOAWAY {h2frames.describe(code)}: not processed"))
        if not self.streams:
            self.flush()
            self.transport.close()  # type: ignore[union-attr]

    # requests

    def capacity(self) -> int:
        if not self.usable or not self.ready.done():
            return 0
        return min(self.max_concurrent, STREAMS_PER_CONNECTION) - len(self.streams)

    def request(self, block: bytes, body: bytes, timeout: float) -> asyncio.Future:
        """POST: `block` is the header block after :method, :scheme and :authority."""
        stream_id = self.next_stream_id
        self.next_stream_id += 2
        if self.next_stream_id > _LAST_STREAM_ID:
            self.usable = False  # stream ids used up: the next request opens a new connection
        future = self.loop.create_future()
        self.streams[stream_id] = _Stream(future, self.loop.time() + timeout)
        if self._timer is None:
            self._timer = self.loop.call_at(self.loop.time() + timeout, self._expire)
        self.write(header_frames(stream_id, self.prefix + block, not body, self.max_frame))
        if body:
            self.stream_windows[stream_id] = self.initial_window
            self.send_body(stream_id, body)
        return future

    def _expire(self) -> None:
        """Requests past their deadline, oldest first (all share one timeout, so they are in
        order): each fails and its stream is reset; the connection stays usable."""
        self._timer = None
        now = self.loop.time()
        while self.streams:
            stream_id, stream = next(iter(self.streams.items()))
            if stream.deadline > now:
                self._timer = self.loop.call_at(stream.deadline, self._expire)
                break
            self._pop(stream_id)
            if not stream.future.done():
                stream.future.set_exception(H2Timeout("no answer within the timeout"))
            self.reset(stream_id, h2frames.CANCEL)

    def _pop(self, stream_id: int) -> _Stream | None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            self.close_stream(stream_id)
            if self.on_capacity is not None:
                self.on_capacity()
        return stream

    def _fail(self, error: H2Error) -> None:
        self.usable = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.ready.done():
            self.ready.set_exception(error)
            self.ready.exception()  # retrieved: whoever awaits it sees it, nobody else must
        for stream_id in list(self.streams):
            stream = self._pop(stream_id)
            if stream is not None and not stream.future.done():
                stream.future.set_exception(error)


class _Origin:
    """The connections to one host: a new one when every open one has all the streams it allows."""

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        self.host, self.port, self.ssl = host, port, ssl_context
        self.authority = (host if port == 443 else f"{host}:{port}").encode()
        self.max_connections = max_connections
        self.connections: list[_Connection] = []
        self.connecting: asyncio.Future | None = None
        self.waiters: list[asyncio.Future] = []

    def pick(self) -> _Connection | None:
        """An open connection with room for another stream, if there is one (no waiting)."""
        for connection in self.connections:
            if connection.capacity() > 0:
                return connection
        return None

    async def connection(self, timeout: float) -> _Connection:
        while True:
            self.connections = [c for c in self.connections if c.usable]
            best = self.pick()
            if best is not None:
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
        if not self.waiters:
            return
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
        self._origins: dict[str, _Origin] = {}  # by authority ("host:port")
        self._encoded: dict[tuple[tuple[str, str], ...], bytes] = {}

    async def post(self, url: str, content: bytes, headers: Mapping[str, str]) -> H2Response:
        origin, path = self._route(url)
        connection = origin.pick() or await origin.connection(self.timeout)
        block = with_value(_PATH, path.encode()) + self._fields(headers) + with_value(
            _CONTENT_LENGTH, str(len(content)).encode())
        return await connection.request(block, content, self.timeout)

    def _route(self, url: str) -> tuple[_Origin, str]:
        """The origin's connections and the request's path (with its query)."""
        scheme, _, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        origin = self._origins.get(authority) if scheme == "https" else None
        if origin is None:
            parts = urlsplit(url)
            if parts.scheme != "https":
                raise H2Error(f"HTTP/2 with TLS only, not {url!r}")
            origin = self._origins[authority] = _Origin(parts.hostname or "", parts.port or 443, self.ssl,
                                                        self.max_connections)
        return origin, slash + path if slash else "/"

    def _fields(self, headers: Mapping[str, str]) -> bytes:
        """The HPACK fields of these headers, encoded once per distinct set (a provider sends the
        same token and options for a whole batch)."""
        key = tuple(headers.items())
        block = self._encoded.get(key)
        if block is None:
            block = b"".join(field(name.lower().encode(), value.encode(), secret=name.lower().encode() in
                                   _SECRET_HEADERS) for name, value in key)
            if len(self._encoded) >= 256:
                self._encoded.clear()
            self._encoded[key] = block
        return block

    async def aclose(self) -> None:
        for origin in self._origins.values():
            origin.close()
        self._origins.clear()
