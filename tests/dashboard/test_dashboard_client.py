"""The API client: error mapping to words, HTTP edges and graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from dashboard.client import ApiError, GraphQLClient, describe_error, graphql_ws_url
from dashboard.live_client import SubscriptionClient


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("UNAUTHENTICATED", "Your session has expired. Please log in again."),
        ("FORBIDDEN", "You don't have permission to do that."),
        ("QUOTA_EXCEEDED", "This app has used up its daily notification quota"),
        ("PAYLOAD_TOO_LARGE", "This notification is too large"),
        ("INTERNAL_SERVER_ERROR", "Something went wrong on the server. Please try again."),
        ("SERVICE_UNAVAILABLE", "Booper's database or queue is not answering"),
        ("NETWORK", "Can't reach the Booper API"),
        ("RATE_LIMITED", "Too many requests right now."),
    ],
)
def test_codes_become_words(code, expected):
    assert describe_error(code).startswith(expected)


def test_rate_limited_says_when_to_retry():
    assert (
        describe_error("RATE_LIMITED", retry_after=3.2)
        == "Too many requests right now. Try again in 3 seconds."
    )
    assert describe_error("RATE_LIMITED", retry_after=0.4).endswith("in 1 second.")


def test_user_facing_server_messages_are_kept_and_internals_dropped():
    assert describe_error("BAD_USER_INPUT", "Channel name is invalid") == (
        "Please check what you entered: Channel name is invalid"
    )
    assert (
        describe_error("CONFLICT", "A channel named x already exists")
        == "A channel named x already exists."
    )
    # Which allowance ran out: the day's notifications, or the channels an app may hold.
    assert describe_error("QUOTA_EXCEEDED", "an app holds at most 5 channels (BOOPER_MAX_CHANNELS_PER_APP):"
                          " delete one first") == (
        "An app holds at most 5 channels (BOOPER_MAX_CHANNELS_PER_APP): delete one first."
    )
    # Internal details never reach the page.
    assert describe_error("INTERNAL_SERVER_ERROR", "Traceback (most recent call last): ...") == (
        "Something went wrong on the server. Please try again."
    )
    assert (
        describe_error("BAD_USER_INPUT", "Traceback: KeyError") == "Please check what you entered."
    )
    assert (
        describe_error("WHATEVER", '{"raw": "json"}') == "Something went wrong. Please try again."
    )
    long = describe_error("BAD_USER_INPUT", "x" * 1000)
    assert len(long) < 260 and long.endswith("…")


def _client(handler) -> GraphQLClient:
    return GraphQLClient(
        "jwt-token", url="http://api.test/graphql", transport=httpx.MockTransport(handler)
    )


async def test_sends_bearer_token_and_operation():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"data": {"apps": [{"id": "a1", "name": "Shop"}]}})

    apps = await _client(handler).apps()
    assert apps == [{"id": "a1", "name": "Shop"}]
    assert seen["auth"] == "Bearer jwt-token"
    assert seen["body"]["operationName"] == "Apps"
    assert "query Apps" in seen["body"]["query"]


async def test_graphql_errors_become_api_errors():
    def handler(request):
        return httpx.Response(
            200,
            json={
                "data": None,
                "errors": [
                    {
                        "message": "slow down",
                        "extensions": {"code": "RATE_LIMITED", "retryAfter": 7},
                    }
                ],
            },
        )

    with pytest.raises(ApiError) as caught:
        await _client(handler).send_notification({"channelId": "c", "body": "hi"})
    assert caught.value.code == "RATE_LIMITED"
    assert caught.value.retry_after == 7
    assert caught.value.message == "Too many requests right now. Try again in 7 seconds."


async def test_unauthenticated_is_flagged():
    def handler(request):
        return httpx.Response(
            200,
            json={"errors": [{"message": "bad token", "extensions": {"code": "UNAUTHENTICATED"}}]},
        )

    with pytest.raises(ApiError) as caught:
        await _client(handler).me()
    assert caught.value.unauthenticated


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (httpx.Response(500, text="<html>oops</html>"), "INTERNAL_SERVER_ERROR"),
        (httpx.Response(413, text="too big"), "PAYLOAD_TOO_LARGE"),
        (httpx.Response(429, headers={"retry-after": "2"}, text=""), "RATE_LIMITED"),
        (httpx.Response(200, text="not json"), "BAD_RESPONSE"),
        (
            httpx.Response(200, json={"errors": [{"message": "Cannot query field 'x'"}]}),
            "INTERNAL_SERVER_ERROR",
        ),
    ],
)
async def test_http_edges(response, code):
    with pytest.raises(ApiError) as caught:
        await _client(lambda request: response).apps()
    assert caught.value.code == code
    assert "Traceback" not in caught.value.message and "<html>" not in caught.value.message


async def test_unreachable_api():
    def handler(request):
        raise httpx.ConnectError("refused")

    with pytest.raises(ApiError) as caught:
        await _client(handler).apps()
    assert caught.value.code == "NETWORK"


async def test_missing_object_is_not_found():
    with pytest.raises(ApiError) as caught:
        await _client(
            lambda r: httpx.Response(200, json={"data": {"notification": None}})
        ).notification("n1")
    assert caught.value.code == "NOT_FOUND"


def test_ws_url_follows_api_url(monkeypatch):
    monkeypatch.setenv("BOOPER_API_URL", "https://push.example.com/")
    assert graphql_ws_url() == "wss://push.example.com/graphql"
    monkeypatch.setenv("BOOPER_API_URL", "http://127.0.0.1:8000")
    assert graphql_ws_url() == "ws://127.0.0.1:8000/graphql"


async def test_graphql_transport_ws_round_trip():
    """A tiny graphql-transport-ws server: auth in connection_init, ping, next, error."""
    websockets = pytest.importorskip("websockets")
    received = {}

    async def server(ws):
        init = json.loads(await ws.recv())
        received["init"] = init
        await ws.send(json.dumps({"type": "connection_ack"}))
        sub = json.loads(await ws.recv())
        received["subscribe"] = sub
        await ws.send(json.dumps({"type": "ping"}))
        pong = json.loads(await ws.recv())
        received["pong"] = pong
        await ws.send(
            json.dumps(
                {
                    "id": sub["id"],
                    "type": "next",
                    "payload": {"data": {"deliveryEvents": {"id": "d1", "status": "DELIVERED"}}},
                }
            )
        )
        await ws.send(
            json.dumps(
                {
                    "id": sub["id"],
                    "type": "error",
                    "payload": [{"message": "no", "extensions": {"code": "FORBIDDEN"}}],
                }
            )
        )
        await asyncio.sleep(0.5)

    async with websockets.serve(
        server, "127.0.0.1", 0, subprotocols=["graphql-transport-ws"]
    ) as srv:
        port = srv.sockets[0].getsockname()[1]
        async with SubscriptionClient("jwt", url=f"ws://127.0.0.1:{port}/graphql") as live:
            await live.subscribe("LiveDeliveries", {"appId": "a1"})
            events = []
            with pytest.raises(ApiError) as caught:
                for _ in range(10):
                    event = await live.next_event(timeout=2)
                    if event:
                        events.append(event)
    assert received["init"] == {
        "type": "connection_init",
        "payload": {"authorization": "Bearer jwt"},
    }
    assert received["subscribe"]["payload"]["operationName"] == "LiveDeliveries"
    assert received["subscribe"]["payload"]["variables"] == {"appId": "a1"}
    assert received["pong"] == {"type": "pong"}
    assert events == [("LiveDeliveries", {"deliveryEvents": {"id": "d1", "status": "DELIVERED"}})]
    assert caught.value.code == "FORBIDDEN"


async def test_ws_unreachable_is_a_network_error():
    with pytest.raises(ApiError) as caught:
        await SubscriptionClient("jwt", url="ws://127.0.0.1:9/graphql", connect_timeout=2).connect()
    assert caught.value.code == "NETWORK"
