"""A webhook receiver: stores each POST (body and headers) under a name, for tests to inspect."""

import time

import orjson
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from api.sandbox.http import fault_response, json_response
from api.sandbox.state import SandboxState

KEPT_HEADERS = ("content-type", "booper-signature", "booper-event-id", "booper-event-type", "user-agent")


def webhook_routes(state: SandboxState) -> list[HTTPRouteHandler]:
    @post("/webhooks/{name:str}", status_code=200)
    async def receive(request: Request, name: FromPath[str]) -> Response:
        state.count("requests.webhook")
        if state.faults and (rule := state.faults.for_request("webhook", [name])):
            return await fault_response(rule, state)
        body = await request.body()
        state.store(
            {
                "provider": "webhook",
                "to": name,
                "body": body.decode(errors="replace"),
                "json": _maybe_json(body),
                "headers": {k: request.headers.get(k) for k in KEPT_HEADERS if k in request.headers},
                "received_at": time.time(),
            }
        )
        state.count("messages.webhook")
        return json_response({"received": True})

    return [receive]


def _maybe_json(body: bytes):
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
