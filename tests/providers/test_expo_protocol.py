"""ExpoClient's request shape and its handling of malformed answers, against an HTTP server on
loopback that answers each test's canned response and records what it was sent."""

from __future__ import annotations

import orjson
import pytest
from aiohttp import web
from exponent_server_sdk import PushMessage

from api.providers.expo import ExpoClient
from api.providers.failures import PermanentMessageFailure, TransientFailure

TOKEN = "ExponentPushToken[abc]"


@pytest.fixture
async def expo_answering():
    """expo_answering(status, body) -> (client, requests seen): a server on 127.0.0.1 that gives
    every request that answer."""
    runners, clients = [], []

    async def make(status: int, body: bytes | dict, content_type: str = "application/json"):
        seen: list[dict] = []

        async def handler(request: web.Request) -> web.Response:
            seen.append({"path": request.path, "headers": dict(request.headers), "body": await request.read()})
            text = orjson.dumps(body) if isinstance(body, dict) else body
            return web.Response(status=status, body=text, content_type=content_type)

        app = web.Application()
        app.router.add_post("/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        client = ExpoClient(base_url=f"http://127.0.0.1:{port}", access_token="secret")
        clients.append(client)
        return client, seen

    yield make
    for client in clients:
        await client.close()
    for runner in runners:
        await runner.cleanup()


async def test_request_headers_and_body(expo_answering):
    expo, seen = await expo_answering(200, {"data": [{"status": "ok", "id": "t1"}]})
    [outcome] = await expo.send([PushMessage(to=TOKEN, body="hi")])
    assert outcome.ticket_id == "t1"
    (request,) = seen
    assert request["path"] == "/--/api/v2/push/send"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"] == "Bearer secret"
    assert headers["accept-encoding"] == "gzip, deflate"
    assert headers["content-type"] == "application/json"
    assert orjson.loads(request["body"]) == [{"to": TOKEN, "body": "hi"}]


async def test_an_apps_own_access_token_replaces_the_servers(expo_answering):
    expo, seen = await expo_answering(200, {"data": [{"status": "ok", "id": "t1"}]})
    await expo.send([PushMessage(to=TOKEN, body="hi")], access_token="the-apps-own")
    assert {k.lower(): v for k, v in seen[0]["headers"].items()}["authorization"] == "Bearer the-apps-own"


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (200, b"<html>oops</html>", TransientFailure, "invalid_response"),
        (502, b"<html>bad gateway</html>", TransientFailure, "http_502"),
        (400, {"errors": [{"code": "VALIDATION_ERROR", "message": "no"}]}, PermanentMessageFailure, "http_400"),
        (413, b"too large", PermanentMessageFailure, "http_413"),
        (401, b"bad token", PermanentMessageFailure, "http_401"),
        (200, {"errors": [{"code": "PUSH_TOO_MANY_EXPERIENCE_IDS"}]}, PermanentMessageFailure,
         "PUSH_TOO_MANY_EXPERIENCE_IDS"),
        (200, {"data": []}, TransientFailure, "invalid_response"),
    ],
)
async def test_whole_request_failures(expo_answering, status, body, kind, code):
    expo, _ = await expo_answering(status, body, "application/json" if isinstance(body, dict) else "text/html")
    with pytest.raises(kind) as caught:
        await expo.send([PushMessage(to=TOKEN, body="hi")])
    assert type(caught.value) is kind
    assert caught.value.code == code
