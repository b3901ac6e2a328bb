"""Bad input of every kind gets a coded GraphQL error, never a bare HTTP 500 or an
INTERNAL_SERVER_ERROR (issue 10, finding 6): cursors out of range, integers no 64-bit column
holds, JSON nested without end, bodies that are not UTF-8, subscriptions over POST; over HTTP
and over WebSocket, whose `error` messages carry extensions.code too."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.api.conftest import b64url, row_counts
from tests.support import factories as f

BAD_CURSORS = [
    "v1:" + "9" * 25,  # the finding: beyond any 64-bit id
    "v1:9223372036854775808",
    "v1:" + "9" * 5000,
    "v1:-1",
    "v1:1.5",
    "v1:²",
    "v1:١",  # str.isdigit(), and int() reads it as 1: not a cursor Booper wrote
    "v2:1",
]
PAGED = [
    ("query($c: ID!, $a: String) { notifications(channelId: $c, after: $a) { nodes { id } } }", "channel"),
    ("query($c: ID!, $a: String) { subscribers(channelId: $c, after: $a) { nodes { id } } }", "channel"),
    ("query($c: ID!, $a: String) { deliveries(notificationId: $c, after: $a) { nodes { id } } }", "notification"),
]


@pytest.mark.parametrize(("query", "target"), PAGED, ids=["notifications", "subscribers", "deliveries"])
async def test_cursors_out_of_range_or_malformed_are_bad_user_input(api, query, target):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    sent = await f.send(api, app, channel="news", title="one")
    target_id = channel["id"] if target == "channel" else sent["id"]
    for cursor in BAD_CURSORS:
        body = await api.raw(query, {"c": target_id, "a": b64url(cursor.encode())}, api_key=app.api_key)
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        assert codes == ["BAD_USER_INPUT"], (cursor[:30], body)
    # A cursor Booper wrote still pages.
    good = b64url(f"v1:{int(sent['id']) + 1}".encode())
    assert "errors" not in await api.raw(query, {"c": target_id, "a": good}, api_key=app.api_key)


SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id data } }"


@pytest.mark.parametrize("value", [2**63, 2**64, 10**25, -(2**63) - 1, -(10**30)])
async def test_integers_beyond_64_bits_in_data_are_refused_on_every_path(api, monkeypatch, value):
    """Exact or refused, never silently a float: the prepared path (orjson reads such an integer
    as a float) and the general path must both refuse it, in words that say the range."""
    from api.graphql.fastpath import PreparedSends

    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")
    before = await row_counts()
    literal = f'mutation {{ sendNotification(input: {{channel: "news", title: "T", data: {{n: {value}}}}}) {{ id }} }}'
    for enabled in (True, False):
        monkeypatch.setattr(PreparedSends, "enabled", enabled)
        for query, variables in [(SEND, {"i": {"channel": "news", "title": "T", "data": {"n": [value]}}}),
                                 (literal, None)]:
            body = await api.raw(query, variables, api_key=app.api_key)
            assert body.get("data") is None, body
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT", body
            assert "64-bit" in error["message"], body
    assert await row_counts() == before


async def test_64_bit_integers_in_data_come_back_exact_on_both_paths(api, monkeypatch):
    from api.graphql.fastpath import PreparedSends

    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")
    data = {"max": 2**63 - 1, "min": -(2**63), "big": 12345678901234567, "f": 0.5}
    for enabled in (True, False):
        monkeypatch.setattr(PreparedSends, "enabled", enabled)
        sent = await api.ok(SEND, {"i": {"channel": "news", "title": "T", "data": data}}, api_key=app.api_key)
        assert sent["sendNotification"]["data"] == data
        read = await api.ok("query($i: ID!) { notification(id: $i) { data } }",
                            {"i": sent["sendNotification"]["id"]}, api_key=app.api_key)
        assert read["notification"]["data"] == data


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


async def _post(api, content: bytes, content_type: str = "application/json", **headers: str) -> httpx.Response:
    return await api.http.post("/graphql", content=content, headers={"content-type": content_type, **headers})


def _coded(response: httpx.Response) -> str:
    assert response.status_code != 500, response.text
    body = response.json()
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert len(codes) == 1, body
    return codes.pop()


@pytest.mark.parametrize("prepared", [True, False])
async def test_json_nested_2000_deep_is_a_coded_error(api, monkeypatch, prepared):
    from api.graphql.fastpath import PreparedSends

    monkeypatch.setattr(PreparedSends, "enabled", prepared)
    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")
    before = await row_counts()
    send = json.dumps(SEND)
    for depth in (2000, 900, 100):  # past every parser's limit, under some, past Booper's
        in_body = f'{{"query": "{{ __typename }}", "variables": {{"v": {_nested(depth)}}}}}'.encode()
        assert _coded(await _post(api, in_body)) == "BAD_USER_INPUT"
        in_data = f'{{"query": {send}, "variables": {{"i": {{"channel": "news", "title": "T", "data": {_nested(depth)}}}}}}}'
        response = await _post(api, in_data.encode(), **{"x-api-key": app.api_key})
        assert _coded(response) == "BAD_USER_INPUT"
    assert await row_counts() == before


async def test_invalid_utf8_bodies_are_a_coded_error(api):
    for body in (b'{"query": "{ __typename \xff }"}', b'{"query": "\xc3\x28"}', b"\xfe\xff\x00{"):
        response = await _post(api, body)
        assert response.status_code == 400, response.text
        assert _coded(response) == "BAD_USER_INPUT"
        assert "UTF-8" in response.json()["errors"][0]["message"]


async def test_unparseable_or_ill_typed_bodies_are_coded_errors(api):
    for body in (b"", b"{", b"[]", b'"x"', b"null", b'{"query": 1}', b'{"query": "{ me { id } }", "variables": []}',
                 b'{"query": "{ __typename }", "variables": {"x": NaN}}', b'{"query": "{ __typename }", "x": 1e400}'):
        response = await _post(api, body)
        assert response.status_code == 400, (body, response.text)
        assert _coded(response) == "BAD_USER_INPUT", body
    response = await _post(api, b'{"query": "{ __typename }"}', content_type="text/plain")
    assert response.status_code in (400, 415) and _coded(response) == "BAD_USER_INPUT"


async def test_a_subscription_sent_over_http_post_is_bad_user_input(api):
    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")
    for query in ('subscription { notifications(channel: "news") { id } }',
                  "subscription($a: ID!) { deliveryEvents(appId: $a) { id } }"):
        body = await api.raw(query, {"a": app.id}, api_key=app.api_key)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert "WebSocket" in body["errors"][0]["message"]


async def ws_operation(api, payload: dict, *, connection_params: dict | None = None) -> list[dict]:
    """The messages of one graphql-transport-ws operation, up to its `error` or `complete`."""
    url = api.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": connection_params or {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "op", "type": "subscribe", "payload": payload}))
        messages = []
        while not messages or messages[-1]["type"] not in ("error", "complete"):
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        return messages


async def test_websocket_error_messages_carry_a_code(api):
    app = await f.make_app(api)
    key = {"apiKey": app.api_key}
    other = "1" if app.id != "1" else "2"
    cases = [
        ({"query": 'subscription { notifications(chanel: "x") { id } }'}, None, "BAD_USER_INPUT"),  # validation
        ({"query": "subscription($a: ID!) { deliveryEvents(appId: $a) { id } }", "variables": {}}, None,
         "BAD_USER_INPUT"),  # variables
        ({"query": 'subscription { deliveryEvents(appId: "1") { id } }'}, None, "UNAUTHENTICATED"),  # resolver
        ({"query": 'subscription { deliveryEvents(appId: "abc") { id } }'}, key, "BAD_USER_INPUT"),
        ({"query": 'subscription { deliveryEvents(appId: "' + "9" * 30 + '") { id } }'}, key, "BAD_USER_INPUT"),
        ({"query": f'subscription {{ deliveryEvents(appId: "{other}") {{ id }} }}'}, key, "NOT_FOUND"),
        ({"query": 'subscription { notifications(channel: "none-such") { id } }'}, None, "NOT_FOUND"),
    ]
    for payload, params, code in cases:
        messages = await ws_operation(api, payload, connection_params=params)
        last = messages[-1]
        errors = last["payload"] if last["type"] == "error" else messages[-2]["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == [code], (payload, messages)


async def test_an_internal_error_over_websocket_is_masked(api, monkeypatch):
    """Queries over the socket leave through the same shaping as over HTTP: no internals."""
    from api.channels import service

    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")

    async def boom(ids):
        raise ZeroDivisionError("division by zero in /app/api/secret.py")

    monkeypatch.setattr(service, "subscriber_counts", boom)
    messages = await ws_operation(api, {"query": "{ channels { name subscriberCount } }"},
                                  connection_params={"apiKey": app.api_key})
    errors = next(m for m in messages if m["type"] == "next")["payload"]["errors"]
    assert [(e["message"], e["extensions"]) for e in errors] == [
        ("internal server error", {"code": "INTERNAL_SERVER_ERROR"})]
    assert "division" not in json.dumps(messages)


async def test_no_field_suggestions_when_introspection_is_off(api, settings):
    """graphql-core's "Did you mean ...?" spells out the schema that turning introspection off hides."""
    mistakes = [
        ('{ chanel(name: "x") { id } }', None),  # a field
        ('{ channel(nme: "x") { id } }', None),  # an argument
        ('mutation($v: ChannelVisibility!) { createChannel(appId: "1", name: "x", visibility: $v) { id } }',
         {"v": "PUBLC"}),  # an enum value in variables
        ("mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }",
         {"i": {"channel": "x", "titel": "x"}}),  # an input field
    ]
    for query, variables in mistakes:
        assert "Did you mean" in json.dumps(await api.raw(query, variables)), query  # dev: hints help
    settings.introspection = False
    for query, variables in mistakes:
        body = await api.raw(query, variables)
        assert body["errors"] and all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in body["errors"]), body
        assert "Did you mean" not in json.dumps(body), body
        messages = await ws_operation(api, {"query": query, "variables": variables})
        errors = [e for m in messages if m["type"] in ("error", "next")
                  for e in (m["payload"] if m["type"] == "error" else m["payload"].get("errors") or [])]
        assert errors and "Did you mean" not in json.dumps(messages), messages


async def test_an_argument_that_may_be_null_but_was_left_out_is_bad_user_input(api):
    """`cap: Int` and `identifier: String` take null (the server's default; unlink), but leaving them
    out made the resolver's call fail (INTERNAL_SERVER_ERROR, found by the fuzz run)."""
    app = await f.make_app(api)
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, await f.make_channel(api, app))
    before = await row_counts()
    for query, variables in (
        ("mutation($a: ID!) { setPersonHourlyCap(appId: $a) { id } }", {"a": app.id}),
        ("mutation($d: ID!) { identifyDevice(deviceId: $d) { id } }", {"d": device["id"]}),
    ):
        error = await api.error(query, variables, api_key=app.api_key)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "null" in error["message"], error
    assert await row_counts() == before
