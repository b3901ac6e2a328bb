"""A lean TLS server for the sandbox's FCM and APNs app: HTTP/2 on api/providers/h2frames.py
(ALPN h2) and HTTP/1.1 on `h11` (what a client without HTTP/2 gets), straight on asyncio.

hypercorn spent about as much CPU per request as httpx's client (a task group, queues and
events per stream), so the sandbox, not the sender, capped the FCM and APNs benchmarks. This
serves the very same ASGI app (api/sandbox/h2.py's NativeProviders, which keeps every check):
one task per request, the request's body handed over whole, the answer written as soon as the
app sends it, flow control honoured both ways. APNs requires HTTP/2; the app itself refuses
HTTP/1.1 requests with APNs' answer, as before.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

import h11

from api.providers import h2frames
from api.providers.h2frames import FrameConnection, ProtocolFailure

App = Any  # an ASGI application
InFlight = Callable[[int], None]  # told +1 when a request arrives, -1 once it is answered
MAX_STREAMS = 1000
_tasks: set[asyncio.Task] = set()
log = logging.getLogger("booper.sandbox")


def _ends(transport: asyncio.BaseTransport) -> tuple[tuple, tuple]:
    """The connection's (client, server) addresses, as ASGI's scope gives them."""
    return tuple(transport.get_extra_info("peername")[:2]), tuple(transport.get_extra_info("sockname")[:2])


def _scope(http_version: str, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]],
           ends: tuple[tuple, tuple]) -> dict:
    path, _, query = target.partition(b"?")
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": http_version,
            "method": method.decode("latin-1"), "scheme": "https", "path": path.decode("latin-1"),
            "raw_path": path, "query_string": query, "headers": headers, "root_path": "",
            "client": ends[0], "server": ends[1]}


async def _run(app: App, scope: dict, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The app's answer (status, headers, body) to one request."""
    delivered = False
    answer: dict[str, Any] = {"status": 500, "headers": [], "body": []}

    async def receive() -> dict:
        nonlocal delivered
        if delivered:  # the body was read: nothing more comes but the end
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"], answer["headers"] = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:  # noqa: BLE001 - a bug in the app answers 500, as any server would
        return 500, [(b"content-length", b"0")], b""
    return answer["status"], answer["headers"], b"".join(answer["body"])


def _spawn(coro: Any) -> None:
    """Run a request's answer now, in the caller's turn of the event loop; only if it has to wait
    (a fault's delay, a timeout rule) does the rest become a task. Almost every answer waits for
    nothing, and a task each cost the sandbox more than its HTTP/2 framing."""
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return
    except Exception:  # noqa: BLE001 - as a task's unhandled exception would be: logged, not raised here
        log.exception("sandbox answer failed")
        return
    task = asyncio.get_running_loop().create_task(_rest(coro, waiting_on))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _rest(coro: Any, waiting_on: Any) -> Any:
    return await _Continue(coro, waiting_on)


class _Continue:
    """Awaitable that goes on with a coroutine already started, from the future it last yielded:
    the task running it passes results and exceptions (a cancellation too) straight through."""

    def __init__(self, coro: Any, waiting_on: Any) -> None:
        self.coro, self.waiting_on = coro, waiting_on

    def __await__(self) -> Any:
        coro, value = self.coro, self.waiting_on
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the task: the coroutine decides
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class _Http2(FrameConnection):
    preface_expected = True

    def __init__(self, app: App, transport: asyncio.Transport, in_flight: InFlight) -> None:
        super().__init__()
        self.app, self.transport, self.in_flight = app, transport, in_flight
        self.requests: dict[int, _Request] = {}  # streams whose request is still arriving
        self.answering: set[int] = set()  # streams whose request is with the app
        self.ends = _ends(transport)
        self.answered = 0  # answers written since the last flush
        self.start({h2frames.MAX_CONCURRENT_STREAMS: MAX_STREAMS})

    def on_headers(self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool) -> None:
        request = self.requests.get(stream_id)
        if request is None:  # a new stream (trailers of a known one change nothing)
            if stream_id % 2 == 0 or stream_id <= self.last_peer_stream:
                raise ProtocolFailure(h2frames.PROTOCOL_ERROR, "bad stream id")
            self.last_peer_stream = stream_id
            if len(self.requests) + len(self.answering) >= MAX_STREAMS:
                self.reset(stream_id, h2frames.REFUSED_STREAM)
                return
            request = self.requests[stream_id] = _Request(headers)
            self.stream_windows[stream_id] = self.initial_window
            self.in_flight(1)  # received, not answered: the streams a client multiplexes
        if end_stream:
            self._complete(stream_id)

    def on_data(self, stream_id: int, data: bytes, size: int, end_stream: bool) -> None:
        request = self.requests.get(stream_id)
        if request is None:
            self.received += size  # the connection's window still counts it
            return
        request.received = self.acknowledge(stream_id, request.received, size)
        request.body.append(data)
        if end_stream:
            self._complete(stream_id)

    def on_reset(self, stream_id: int, code: int) -> None:
        if self.requests.pop(stream_id, None) is not None:
            self.in_flight(-1)
        self.answering.discard(stream_id)  # whatever the app answers is not sent

    def on_goaway(self, last_stream_id: int, code: int) -> None:
        self.flush()
        self.transport.close()

    def flush(self) -> None:
        super().flush()
        if self.answered:
            self.in_flight(-self.answered)
            self.answered = 0

    def _complete(self, stream_id: int) -> None:
        request = self.requests.pop(stream_id)
        self.answering.add(stream_id)
        _spawn(self._answer(stream_id, request.headers, request.body))

    async def _answer(self, stream_id: int, raw_headers: list, body: list[bytes]) -> None:
        pseudo, headers = {}, []
        for name, value in raw_headers:
            if name.startswith(b":"):
                pseudo[name] = value
            else:
                headers.append((name, value))
        if b":authority" in pseudo and not any(name == b"host" for name, _ in headers):
            headers.append((b"host", pseudo[b":authority"]))
        scope = _scope("2", pseudo.get(b":method", b"GET"), pseudo.get(b":path", b"/"), headers, self.ends)
        try:
            status, out, content = await _run(self.app, scope, b"".join(body))
        except BaseException:
            self.in_flight(-1)
            raise
        if stream_id not in self.answering or self.transport.is_closing():
            self.in_flight(-1)
            return  # the client gave up on it (a timeout): nothing to say
        self.answering.discard(stream_id)
        # In flight until the answer is written out: answered in the turn that read them, the
        # requests of one read (what a client multiplexed) still count together.
        self.answered += 1
        hop_by_hop = (b"connection", b"transfer-encoding")  # HTTP/1.1's, not allowed in HTTP/2
        block = _status_field(status) + b"".join(
            _field(name.lower(), value) for name, value in out if name.lower() not in hop_by_hop)
        self.write(h2frames.header_frames(stream_id, block, not content, self.max_frame))
        if content:
            self.send_body(stream_id, content)
        else:
            self.close_stream(stream_id)


class _Request:
    __slots__ = ("headers", "body", "received")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.headers = headers
        self.body: list[bytes] = []
        self.received = 0


_fields: dict[tuple[bytes, bytes], bytes] = {}


def _field(name: bytes, value: bytes) -> bytes:
    """HPACK bytes of a response header, kept for those that repeat (content-type, lengths)."""
    encoded = _fields.get((name, value))
    if encoded is None:
        encoded = h2frames.field(name, value)
        if name in (b":status", b"content-type", b"content-length", b"retry-after"):
            if len(_fields) > 4096:
                _fields.clear()
            _fields[name, value] = encoded
    return encoded


def _status_field(status: int) -> bytes:
    return _field(b":status", str(status).encode())


class _Http11(asyncio.Protocol):
    """One request at a time per connection, keep-alive."""

    def __init__(self, app: App, transport: asyncio.Transport, in_flight: InFlight) -> None:
        self.app, self.transport, self.in_flight = app, transport, in_flight
        self.h11 = h11.Connection(h11.SERVER)
        self.request: h11.Request | None = None
        self.body: list[bytes] = []
        self.busy = False

    def data_received(self, data: bytes) -> None:
        self.h11.receive_data(data)
        self._process()

    def _process(self) -> None:
        while not self.busy:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError:
                self.transport.close()
                return
            if event in (h11.NEED_DATA, h11.PAUSED):
                return
            if isinstance(event, h11.Request):
                self.request, self.body = event, []
            elif isinstance(event, h11.Data):
                self.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self.busy = True
                self.in_flight(1)
                _spawn(self._answer())
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()
                return

    async def _answer(self) -> None:
        request = self.request
        scope = _scope("1.1", request.method, request.target, list(request.headers), _ends(self.transport))
        try:
            status, out, content = await _run(self.app, scope, b"".join(self.body))
        finally:
            self.in_flight(-1)
        if self.transport.is_closing():
            return
        out = [(n, v) for n, v in out if n.lower() != b"content-length"]
        out.append((b"content-length", str(len(content)).encode()))
        self.transport.write(self.h11.send(h11.Response(status_code=status, headers=out))
                             + self.h11.send(h11.Data(data=content)) + self.h11.send(h11.EndOfMessage()))
        if self.h11.our_state is h11.MUST_CLOSE:
            self.transport.close()
            return
        self.h11.start_next_cycle()
        self.busy = False
        self._process()


class _Tls(asyncio.Protocol):
    """Hands the connection to HTTP/2 or HTTP/1.1 by the protocol ALPN agreed."""

    def __init__(self, app: App, connections: set[asyncio.Transport], in_flight: InFlight) -> None:
        self.app, self.connections, self.in_flight = app, connections, in_flight
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self.transport)
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object else None
        self.inner = (_Http2 if alpn == "h2" else _Http11)(self.app, self.transport, self.in_flight)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self.transport)


async def serve_tls(app: App, sock: Any, certfile: str, keyfile: str, shutdown: asyncio.Event,
                    in_flight: InFlight = lambda change: None) -> None:
    """Serve `app` on the bound socket until `shutdown` is set; then close every connection."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    context.set_alpn_protocols(["h2", "http/1.1"])
    connections: set[asyncio.Transport] = set()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Tls(app, connections, in_flight), sock=sock, ssl=context, backlog=1024)
    try:
        await shutdown.wait()
    finally:
        server.close()
        for transport in list(connections):
            transport.close()
