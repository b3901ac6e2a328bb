"""ExpoClient's request shape and its handling of malformed answers, via httpx.MockTransport."""

import httpx
import orjson
import pytest
from exponent_server_sdk import PushMessage

from api.providers.expo import ExpoClient
from api.providers.failures import PermanentMessageFailure, TransientFailure

TOKEN = "ExponentPushToken[abc]"


def client_answering(response: httpx.Response, seen: list[httpx.Request]) -> ExpoClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    transport = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ExpoClient(base_url="https://expo.test", access_token="secret", client=transport)


async def test_request_headers_and_body():
    seen: list[httpx.Request] = []
    expo = client_answering(httpx.Response(200, json={"data": [{"status": "ok", "id": "t1"}]}),
                            seen)
    [outcome] = await expo.send([PushMessage(to=TOKEN, body="hi")])
    assert outcome.ticket_id == "t1"
    request = seen[0]
    assert str(request.url) == "https://expo.test/--/api/v2/push/send"
    assert request.headers["authorization"] == "Bearer secret"
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert request.headers["content-type"] == "application/json"
    assert orjson.loads(request.content) == [{"to": TOKEN, "body": "hi"}]


@pytest.mark.parametrize(
    ("response", "kind", "code"),
    [
        (httpx.Response(200, text="<html>oops</html>"), TransientFailure, "invalid_response"),
        (httpx.Response(502, text="<html>bad gateway</html>"), TransientFailure, "http_502"),
        (httpx.Response(400, json={"errors": [{"code": "VALIDATION_ERROR", "message": "no"}]}),
         PermanentMessageFailure, "http_400"),
        (httpx.Response(413, text="too large"), PermanentMessageFailure, "http_413"),
        (httpx.Response(401, text="bad token"), PermanentMessageFailure, "http_401"),
        (httpx.Response(200, json={"errors": [{"code": "PUSH_TOO_MANY_EXPERIENCE_IDS"}]}),
         PermanentMessageFailure, "PUSH_TOO_MANY_EXPERIENCE_IDS"),
        (httpx.Response(200, json={"data": []}), TransientFailure, "invalid_response"),
    ],
)
async def test_whole_request_failures(response, kind, code):
    expo = client_answering(response, [])
    with pytest.raises(kind) as caught:
        await expo.send([PushMessage(to=TOKEN, body="hi")])
    assert type(caught.value) is kind
    assert caught.value.code == code
