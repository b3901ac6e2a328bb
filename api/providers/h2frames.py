"""HTTP/2 framing (RFC 9113) for the lean client (api/providers/h2client.py) and the sandbox's
server (api/sandbox/h2server.py): frames parsed and written straight from bytes.

The `h2` state machine cost about 170 us of CPU per request on each side (an object and a
validation pass per frame, a state machine per stream, events): at 8,000 requests a second on
two cores that is more than the whole budget. What a request needs is small: a HEADERS frame
(its HPACK block mostly the same bytes every time, so encoded once and reused), a DATA frame,
and on the way back the same two. This keeps what the protocol requires of an endpoint:
SETTINGS acknowledged and applied (stream limit, initial window, frame size), flow control both
ways (bodies wait for WINDOW_UPDATE; what we receive is acknowledged), PING answered, GOAWAY and
RST_STREAM honoured, header blocks split over CONTINUATION, and a protocol error answered with
GOAWAY. HPACK: our blocks use literals without indexing (no dynamic table to keep in step);
the peer's blocks are decoded with `hpack`'s decoder, which keeps the peer's table.
"""

from __future__ import annotations

import asyncio
import struct

from hpack import Decoder, HPACKError
from hpack.table import HeaderTable

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE = 1, 2, 3, 4, 5
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR = 0, 1, 3, 6
REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = 7, 8, 9
DEFAULT_WINDOW = 65_535
WINDOW = 1 << 24  # what we let the peer send before we acknowledge, per stream and per connection
MAX_WINDOW = 2**31 - 1
MAX_FRAME = 16_384  # our SETTINGS_MAX_FRAME_SIZE (the default: we never raise it)
MAX_HEADER_BLOCK = 65_536  # a header block split over CONTINUATION frames, at most

_HEAD = struct.Struct(">BHBBL")
_SETTING = struct.Struct(">HL")
_STATIC = [(b"", b""), *HeaderTable.STATIC_TABLE]  # by HPACK index (1-based)
_STATIC_FULL: dict[tuple[bytes, bytes], int] = {}
_STATIC_NAME: dict[bytes, int] = {}
for _index, (_name, _value) in enumerate(HeaderTable.STATIC_TABLE, start=1):
    _STATIC_FULL.setdefault((_name, _value), _index)
    _STATIC_NAME.setdefault(_name, _index)


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    size = len(payload)
    return _HEAD.pack(size >> 16, size & 0xFFFF, kind, flags, stream_id) + payload


def _integer(value: int, prefix_bits: int, first: int) -> bytes:
    """HPACK integer (RFC 7541 5.1) with `first`'s high bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out, value = bytearray((first | limit,)), value - limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string(value: bytes) -> bytes:
    return _integer(len(value), 7, 0) + value  # no Huffman: optional, and costly in Python


def field(name: bytes, value: bytes, *, secret: bool = False) -> bytes:
    """One header field: indexed when the static table has it whole, else a literal that is never
    added to the dynamic table (never indexed for secrets, so intermediaries keep it out too)."""
    index = _STATIC_FULL.get((name, value))
    if index is not None and not secret:
        return _integer(index, 7, 0x80)
    flag = 0x10 if secret else 0x00
    index = _STATIC_NAME.get(name)
    head = _integer(index, 4, flag) if index is not None else bytes((flag,)) + _string(name)
    return head + _string(value)


def name_prefix(name: bytes) -> bytes:
    """The start of a literal field (without indexing) of a header in the static table, for
    with_value: the fields every request has (:path, content-length) without a lookup each."""
    return _integer(_STATIC_NAME[name], 4, 0x00)


def with_value(prefix: bytes, value: bytes) -> bytes:
    size = len(value)
    return prefix + (bytes((size,)) if size < 127 else _integer(size, 7, 0)) + value


def header_frames(stream_id: int, block: bytes, end_stream: bool, max_frame: int) -> bytes:
    """HEADERS, and CONTINUATION frames when the block is larger than a frame."""
    flags = END_STREAM if end_stream else 0
    if len(block) <= max_frame:
        return frame(HEADERS, flags | END_HEADERS, stream_id, block)
    parts = [block[i : i + max_frame] for i in range(0, len(block), max_frame)]
    out = [frame(HEADERS, flags, stream_id, parts[0])]
    out += [frame(CONTINUATION, 0, stream_id, p) for p in parts[1:-1]]
    out.append(frame(CONTINUATION, END_HEADERS, stream_id, parts[-1]))
    return b"".join(out)


class _NotPlain(Exception):
    """The block uses the dynamic table or Huffman coding: hpack's decoder reads it."""


def _read_integer(block: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    limit = (1 << prefix_bits) - 1
    value = block[pos] & limit
    pos += 1
    if value < limit:
        return value, pos
    shift = 0
    while True:
        byte = block[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _read_string(block: bytes, pos: int) -> tuple[bytes, int]:
    if block[pos] & 0x80:
        raise _NotPlain
    size, pos = _read_integer(block, pos, 7)
    if pos + size > len(block):
        raise _NotPlain
    return block[pos : pos + size], pos + size


def decode_plain(block: bytes) -> list[tuple[bytes, bytes]]:
    """A header block made only of static-table references and plain literals that are not added
    to the table (what this module's peers write): it leaves the peer's dynamic table as it was,
    so it can be read without hpack's decoder (which costs a few microseconds a field). _NotPlain
    for anything else, before anything was changed."""
    headers, pos, end = [], 0, len(block)
    try:
        while pos < end:
            byte = block[pos]
            if byte & 0x80:  # indexed
                index, pos = _read_integer(block, pos, 7)
                if not 0 < index < len(_STATIC):
                    raise _NotPlain
                headers.append(_STATIC[index])
            elif byte & 0xE0 in (0x00, 0x10):  # literal without indexing / never indexed
                index, pos = _read_integer(block, pos, 4)
                if index:
                    if index >= len(_STATIC):
                        raise _NotPlain
                    name = _STATIC[index][0]
                else:
                    name, pos = _read_string(block, pos)
                value, pos = _read_string(block, pos)
                headers.append((name, value))
            else:  # incremental indexing or a table size update
                raise _NotPlain
    except IndexError:
        raise _NotPlain from None
    return headers


class ProtocolFailure(Exception):
    def __init__(self, code: int, why: str) -> None:
        super().__init__(why)
        self.code = code


def _unpad(flags: int, payload: bytes) -> bytes:
    if flags & PADDED:
        if not payload or payload[0] >= len(payload):
            raise ProtocolFailure(PROTOCOL_ERROR, "bad padding")
        return payload[1 : len(payload) - payload[0]]
    return payload


class FrameConnection(asyncio.Protocol):
    """One HTTP/2 connection's frames; the client and the server add what streams mean to them
    (on_headers, on_data, on_reset, on_goaway, on_settings)."""

    preface_expected = False  # the server reads the client's preface first

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._buffer = b""
        self._decoder = Decoder()
        self._block: tuple[int, int, list[bytes]] | None = None  # a header block awaiting CONTINUATION
        self.max_concurrent = MAX_WINDOW  # the peer's SETTINGS
        self.initial_window = DEFAULT_WINDOW
        self.max_frame = MAX_FRAME
        self.send_window = DEFAULT_WINDOW  # the connection's, towards the peer
        self.stream_windows: dict[int, int] = {}  # open streams' windows towards the peer
        self.pending: dict[int, bytes] = {}  # bodies (or their rest) waiting for window
        self.received = 0  # DATA bytes since our last connection WINDOW_UPDATE
        self.last_peer_stream = 0
        self.settings_seen = False

    # output

    def start(self, settings: dict[int, int]) -> None:
        """Our preface (a client's), SETTINGS with WINDOW per stream, and WINDOW for the connection."""
        payload = b"".join(_SETTING.pack(k, v) for k, v in {INITIAL_WINDOW_SIZE: WINDOW, **settings}.items())
        self.write((b"" if self.preface_expected else PREFACE) + frame(SETTINGS, 0, 0, payload)
                   + frame(WINDOW_UPDATE, 0, 0, (WINDOW - DEFAULT_WINDOW).to_bytes(4, "big")))
        self.flush()

    def write(self, data: bytes) -> None:
        """Queued and written once per event-loop turn: one TLS record for many frames."""
        self._out.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if self._out:
            data = b"".join(self._out)
            self._out.clear()
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(data)

    def send_body(self, stream_id: int, body: bytes) -> None:
        """As much of the body (ending the stream) as the windows allow; the rest when they open.
        Once the stream is ended on our side its window is no longer kept."""
        window = self.stream_windows.get(stream_id, 0)
        room = min(self.send_window, window, self.max_frame)
        if len(body) <= room:  # the usual case: one frame
            self.send_window -= len(body)
            self.stream_windows.pop(stream_id, None)
            self.write(frame(DATA, END_STREAM, stream_id, body))
            return
        self.pending[stream_id] = body
        self._send_pending(stream_id)

    def _send_pending(self, stream_id: int) -> None:
        body = self.pending.pop(stream_id, b"")
        window = self.stream_windows.get(stream_id, 0)
        while body:
            room = min(self.send_window, window, self.max_frame)
            if room <= 0:
                self.pending[stream_id] = body
                break
            chunk, body = body[:room], body[room:]
            self.send_window -= len(chunk)
            window -= len(chunk)
            self.write(frame(DATA, 0 if body else END_STREAM, stream_id, chunk))
        if body:
            self.stream_windows[stream_id] = window
        else:
            self.stream_windows.pop(stream_id, None)

    def reset(self, stream_id: int, code: int) -> None:
        self.close_stream(stream_id)
        self.write(frame(RST_STREAM, 0, stream_id, code.to_bytes(4, "big")))

    def close_stream(self, stream_id: int) -> None:
        self.stream_windows.pop(stream_id, None)
        self.pending.pop(stream_id, None)

    def acknowledge(self, stream_id: int, stream_received: int, size: int) -> int:
        """Count `size` DATA bytes of a stream; a stream WINDOW_UPDATE once half its window is used.
        Returns the stream's new count."""
        self.received += size
        stream_received += size
        if stream_received >= WINDOW // 2:
            self.write(frame(WINDOW_UPDATE, 0, stream_id, stream_received.to_bytes(4, "big")))
            stream_received = 0
        return stream_received

    def goaway(self, code: int) -> None:
        self.write(frame(GOAWAY, 0, 0, self.last_peer_stream.to_bytes(4, "big") + code.to_bytes(4, "big")))
        self.flush()
        if self.transport is not None:
            self.transport.close()

    # input

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        if self.preface_expected:
            if len(buffer) < len(PREFACE):
                self._buffer = buffer
                return
            if not buffer.startswith(PREFACE):
                self.goaway(PROTOCOL_ERROR)
                return
            self.preface_expected, buffer = False, buffer[len(PREFACE):]
        pos, end = 0, len(buffer)
        try:
            while end - pos >= 9:
                size = int.from_bytes(buffer[pos : pos + 3], "big")
                if size > MAX_FRAME:
                    raise ProtocolFailure(FRAME_SIZE_ERROR, "frame larger than SETTINGS_MAX_FRAME_SIZE")
                if end - pos - 9 < size:
                    break
                kind, flags = buffer[pos + 3], buffer[pos + 4]
                stream_id = int.from_bytes(buffer[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
                payload = buffer[pos + 9 : pos + 9 + size]
                pos += 9 + size
                if self._block is not None and kind != CONTINUATION:
                    raise ProtocolFailure(PROTOCOL_ERROR, "header block interrupted")
                self._frame(kind, flags, stream_id, payload)
        except ProtocolFailure as failure:
            self._buffer = b""
            self.protocol_failed(failure)
            return
        self._buffer = buffer[pos:]
        if self.received >= WINDOW // 2:
            self.write(frame(WINDOW_UPDATE, 0, 0, self.received.to_bytes(4, "big")))
            self.received = 0
        self.flush()

    def protocol_failed(self, failure: ProtocolFailure) -> None:
        self.goaway(failure.code)

    def _frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if kind == DATA:
            if stream_id == 0:
                raise ProtocolFailure(PROTOCOL_ERROR, "DATA on stream 0")
            self.on_data(stream_id, _unpad(flags, payload), len(payload), bool(flags & END_STREAM))
        elif kind == HEADERS:
            if stream_id == 0:
                raise ProtocolFailure(PROTOCOL_ERROR, "HEADERS on stream 0")
            payload = _unpad(flags, payload)
            if flags & PRIORITY_FLAG:
                payload = payload[5:]
            if flags & END_HEADERS:
                self._headers(stream_id, flags, payload)
            else:
                self._block = (stream_id, flags, [payload])
        elif kind == CONTINUATION:
            if self._block is None or self._block[0] != stream_id:
                raise ProtocolFailure(PROTOCOL_ERROR, "unexpected CONTINUATION")
            self._block[2].append(payload)
            if sum(map(len, self._block[2])) > MAX_HEADER_BLOCK:
                raise ProtocolFailure(PROTOCOL_ERROR, "header block too large")
            if flags & END_HEADERS:
                block, self._block = self._block, None
                self._headers(stream_id, block[1], b"".join(block[2]))
        elif kind == SETTINGS:
            if flags & ACK:
                return
            if stream_id != 0 or len(payload) % 6:
                raise ProtocolFailure(FRAME_SIZE_ERROR if len(payload) % 6 else PROTOCOL_ERROR, "bad SETTINGS")
            self._settings(payload)
        elif kind == WINDOW_UPDATE:
            increment = int.from_bytes(payload, "big") & 0x7FFFFFFF if len(payload) == 4 else 0
            if increment == 0:
                raise ProtocolFailure(PROTOCOL_ERROR, "bad WINDOW_UPDATE")
            if stream_id == 0:
                self.send_window += increment
                if self.send_window > MAX_WINDOW:
                    raise ProtocolFailure(FLOW_CONTROL_ERROR, "connection window overflow")
                for pending in list(self.pending):
                    self._send_pending(pending)
            elif stream_id in self.stream_windows:
                self.stream_windows[stream_id] += increment
                if stream_id in self.pending:
                    self._send_pending(stream_id)
        elif kind == RST_STREAM:
            self.close_stream(stream_id)
            self.on_reset(stream_id, int.from_bytes(payload[:4], "big"))
        elif kind == PING:
            if not flags & ACK:
                self.write(frame(PING, ACK, 0, payload))
        elif kind == GOAWAY:
            self.on_goaway(int.from_bytes(payload[:4], "big") & 0x7FFFFFFF, int.from_bytes(payload[4:8], "big"))
        elif kind == PUSH_PROMISE:
            raise ProtocolFailure(PROTOCOL_ERROR, "push is disabled")
        # PRIORITY and unknown frame types are ignored, as RFC 9113 says.

    def _headers(self, stream_id: int, flags: int, block: bytes) -> None:
        try:
            try:
                headers = decode_plain(block)
            except _NotPlain:
                headers = self._decoder.decode(block, raw=True)
        except HPACKError as exc:
            raise ProtocolFailure(COMPRESSION_ERROR, f"HPACK: {exc}") from exc
        self.on_headers(stream_id, headers, bool(flags & END_STREAM))

    def _settings(self, payload: bytes) -> None:
        for offset in range(0, len(payload), 6):
            key, value = _SETTING.unpack_from(payload, offset)
            if key == INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise ProtocolFailure(FLOW_CONTROL_ERROR, "initial window too large")
                delta, self.initial_window = value - self.initial_window, value
                for stream_id in self.stream_windows:
                    self.stream_windows[stream_id] += delta
            elif key == MAX_FRAME_SIZE:
                if not MAX_FRAME <= value <= 16_777_215:
                    raise ProtocolFailure(PROTOCOL_ERROR, "bad max frame size")
                self.max_frame = value
            elif key == MAX_CONCURRENT_STREAMS:
                self.max_concurrent = value
        self.write(frame(SETTINGS, ACK, 0))
        self.settings_seen = True
        for pending in list(self.pending):
            self._send_pending(pending)
        self.on_settings()

    # what the client and the server implement

    def on_headers(self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool) -> None:
        raise NotImplementedError

    def on_data(self, stream_id: int, data: bytes, size: int, end_stream: bool) -> None:
        raise NotImplementedError

    def on_reset(self, stream_id: int, code: int) -> None:
        pass

    def on_goaway(self, last_stream_id: int, code: int) -> None:
        pass

    def on_settings(self) -> None:
        pass


def describe(code: int) -> str:
    names = {NO_ERROR: "NO_ERROR", PROTOCOL_ERROR: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR",
             FLOW_CONTROL_ERROR: "FLOW_CONTROL_ERROR", REFUSED_STREAM: "REFUSED_STREAM", CANCEL: "CANCEL",
             COMPRESSION_ERROR: "COMPRESSION_ERROR", 11: "ENHANCE_YOUR_CALM"}
    return names.get(code, f"error {code}")

