"""The fuzz run below GraphQL: raw HTTP requests to /graphql (arbitrary bytes, broken, deep and
huge JSON, invalid UTF-8, wrong content types and Accept headers, sends whose `data` holds any JSON)
and graphql-transport-ws frames (junk payloads, wrong types, subscribe before init, duplicate
ids). Never a bare 500 or a 1011 close, never INTERNAL_SERVER_ERROR, every error coded, `data`
returned as sent, and the server answers afterwards."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.ops.test_fuzz import JSON_VALUES
from tests.support import factories as f

SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id data } }"
DOCUMENTS = st.sampled_from([
    "{ __typename }", SEND, 'subscription { notifications(channel: "fuzz") { id } }', "{ me { id } ",
    "query($c: ID!, $a: String) { notifications(channelId: $c, after: $a) { nodes { id } } }", "", "{ nope }",
])
REQUESTS = st.fixed_dictionaries({"query": DOCUMENTS | st.none() | st.integers()}, optional={
    "variables": st.none() | st.lists(st.integers(), max_size=2) | st.fixed_dictionaries(
        {}, optional={"i": st.fixed_dictionaries({"channel": st.just("fuzz"), "title": st.just("t")},
                                                 optional={"data": JSON_VALUES}),
                      "c": st.sampled_from(["1", "x"]), "a": st.text(max_size=30)}),
    "operationName": st.none() | st.text(max_size=5) | st.integers(),
    "extensions": st.none() | st.text(max_size=3) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
})


def _deep(depth: int, where: str) -> bytes:
    inner = "[" * depth + "]" * depth
    return (f'{{"query": {json.dumps(SEND)}, "variables": {{"i": {{"channel": "fuzz", "data": {inner}}}}}}}'
            if where == "data" else inner).encode()


def _broken(body: bytes, cut: int, junk: bytes) -> bytes:
    return body[: cut % (len(body) + 1)] + junk


BODIES = st.one_of(
    REQUESTS.map(lambda r: json.dumps(r).encode()),
    st.binary(max_size=200),
    st.builds(_broken, REQUESTS.map(lambda r: json.dumps(r).encode()), st.integers(0, 400),
              st.sampled_from([b"", b"\xff", b"\xc3\x28", b"\x00", b"}", b"NaN", b"1e999"])),
    st.builds(_deep, st.integers(30, 3000), st.sampled_from(["data", "body"])),
    st.just(b'{"query": "{ __typename }", "variables": {"x": "' + b"y" * 300_000 + b'"}}'),  # over the limit
)
CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "",
                                 "application/graphql", "multipart/form-data; boundary=x",
                                 "application/x-www-form-urlencoded", "application/json; charset=latin-1"])
ACCEPTS = st.sampled_from([None, "*/*", "application/json", "application/graphql-response+json",
                           "application/graphql-response+json, application/json;q=0.9", "text/html", "x;q=nan",
                           "application/json;q=0"])


def _problems(status: int, content_type: str, text: str, sent: dict | None) -> list[str]:
    if status >= 500:
        return [f"HTTP {status}: {text[:300]}"]
    if "text/html" in content_type and status == 200:
        return []  # GraphiQL
    try:
        body = json.loads(text)
    except ValueError:
        return [f"HTTP {status} without a JSON body: {text[:300]}"]
    problems = []
    for error in body.get("errors") or [] if isinstance(body, dict) else ["not an object"]:
        code = error.get("extensions", {}).get("code") if isinstance(error, dict) else None
        if code in (None, "INTERNAL_SERVER_ERROR"):
            problems.append(f"HTTP {status} error without a usable code: {json.dumps(error)[:300]}")
    if status >= 400 and not (isinstance(body, dict) and body.get("errors")):
        problems.append(f"HTTP {status} without GraphQL errors: {text[:300]}")
    got = ((body.get("data") or {}).get("sendNotification") or {}) if isinstance(body, dict) else {}
    if sent is not None and "data" in sent and isinstance(got, dict) and "data" in got and got["data"] != sent["data"]:
        problems.append(f"data changed: sent {sent['data']!r:.200}, got {got['data']!r:.200}")
    return problems


async def test_fuzzed_http_requests_never_get_a_bare_500_or_an_internal_error(api, sandbox):
    app = await f.make_app(api, plan="BUSINESS")  # no daily quota: every send is judged on its input
    await f.make_channel(api, app, name="fuzz")
    failures: list[str] = []
    loop = asyncio.get_running_loop()

    async def one(method: str, body: bytes, content_type: str, accept: str | None) -> None:
        headers = {"x-api-key": app.api_key, **({"content-type": content_type} if content_type else {}),
                   **({"accept": accept} if accept else {})}
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
            if method == "GET":
                response = await client.get("/graphql", params={"query": body.decode("latin-1")[:2000]},
                                            headers=headers)
            else:
                response = await client.post("/graphql", content=body, headers=headers)
        try:
            sent = json.loads(body)["variables"]["i"]
        except (ValueError, KeyError, TypeError, IndexError, RecursionError):
            sent = None
        for problem in _problems(response.status_code, response.headers.get("content-type", ""), response.text,
                                 sent if isinstance(sent, dict) else None):
            failures.append(f"{method} {content_type!r} accept={accept!r} {body[:200]!r}: {problem}")

    @hsettings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.sampled_from(["POST"] * 5 + ["GET"]), BODIES, CONTENT_TYPES, ACCEPTS)
    def run(method, body, content_type, accept):
        asyncio.run_coroutine_threadsafe(one(method, body, content_type, accept), loop).result(60)

    await asyncio.to_thread(run)
    assert not failures, "\n".join(failures[:8])
    assert (await api.ok("{ __typename }")) == {"__typename": "Query"}  # still answering


FRAME_PAYLOADS = st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2) | \
    st.fixed_dictionaries({}, optional={
        "query": st.sampled_from(['subscription { notifications(channel: "fuzz") { id } }', "{ __typename }",
                                  "{ me { id", "subscription { nope }", "mutation { x }", "{ \udcff" + "é" * 200 + " }"])
        | st.integers(),
        "variables": st.none() | st.integers() | st.dictionaries(st.text(max_size=3), JSON_VALUES, max_size=2),
        "operationName": st.none() | st.integers() | st.text(max_size=3),
        "apiKey": st.text(max_size=5), "authorization": st.integers() | st.text(max_size=8)})
FRAMES = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["connection_init", "subscribe", "complete", "ping", "pong",
                                                   "next", "error", "bogus"]) | st.integers() | st.none()},
                          optional={"id": st.sampled_from(["1", "2", "", "\udcff", "é" * 60]) | st.integers() | st.text(max_size=200),
                                    "payload": FRAME_PAYLOADS}).map(json.dumps),
    st.sampled_from(["", "{", "[]", "null", '"x"', "[" * 3000 + "]" * 3000, '{"type": "\\udcff"}']),
    st.binary(max_size=20),
)
ALLOWED_CLOSES = {1000, 1001, 4400, 4401, 4403, 4406, 4408, 4409, 4429}


def _frame_problems(message: dict) -> list[str]:
    if not isinstance(message, dict):
        return [f"not an object: {message!r:.200}"]
    payload = message.get("payload")
    errors = payload if message.get("type") == "error" else (payload or {}).get("errors") if isinstance(
        payload, dict) else None
    return [f"{message.get('type')} error without a usable code: {json.dumps(e)[:300]}" for e in errors or []
            if (e.get("extensions") or {}).get("code") in (None, "INTERNAL_SERVER_ERROR")]


async def test_fuzzed_websocket_frames_never_crash_the_handler_or_leak_an_internal_error(api, sandbox):
    app = await f.make_app(api)
    await f.make_channel(api, app, name="fuzz")
    url = api.url.replace("http://", "ws://") + "/graphql"
    failures: list[str] = []
    loop = asyncio.get_running_loop()

    async def one(frames: list) -> None:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            try:
                for frame in frames:
                    await ws.send(frame)
                while True:
                    failures.extend(_frame_problems(json.loads(await asyncio.wait_for(ws.recv(), 0.3))))
            except TimeoutError:
                return
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code not in ALLOWED_CLOSES:
                    failures.append(f"closed {code} {closed.rcvd and closed.rcvd.reason!r} after {frames!r:.300}")

    @hsettings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.booleans(), st.lists(FRAMES, min_size=1, max_size=4))
    def run(init_first, frames):
        init = [json.dumps({"type": "connection_init", "payload": {"apiKey": app.api_key}})] if init_first else []
        asyncio.run_coroutine_threadsafe(one(init + frames), loop).result(60)

    await asyncio.to_thread(run)
    assert not failures, "\n".join(failures[:8])
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # still answering
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["payload"] == {"data": {"__typename": "Query"}}
