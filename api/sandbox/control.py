"""Sandbox inspection and fault-injection endpoints under /sandbox, for tests and benchmarks."""

import orjson
from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery

from api.sandbox.http import json_response
from api.sandbox.state import FaultRule, SandboxState
from api.sandbox.webpush import open_sealed


def control_routes(state: SandboxState) -> list[HTTPRouteHandler]:
    """Route handlers bound to one sandbox state."""

    @get("/sandbox/messages")
    async def list_messages(to: FromQuery[str | None] = None) -> Response:
        """Received messages in arrival order, optionally for one token or subscription id."""
        messages = state.messages if to is None else [m for m in state.messages if m["to"] == to]
        return json_response(open_sealed(messages, state))

    @delete("/sandbox/messages", status_code=204)
    async def reset_messages() -> None:
        state.reset_messages()

    @get("/sandbox/stats")
    async def stats() -> Response:
        return json_response(state.stats())

    @get("/sandbox/faults")
    async def list_faults() -> Response:
        return json_response([rule.as_json() for rule in state.faults.rules])

    @post("/sandbox/faults", status_code=201)
    async def add_faults(request: Request) -> Response:
        """Add one rule or a list of rules; all are checked before any is added."""
        try:
            raw = orjson.loads(await request.body())
            rules = [FaultRule.parse(item) for item in (raw if isinstance(raw, list) else [raw])]
        except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        state.faults.rules.extend(rules)
        return json_response([rule.as_json() for rule in state.faults.rules], 201)

    @delete("/sandbox/faults", status_code=204)
    async def clear_faults() -> None:
        state.faults.rules.clear()

    @post("/sandbox/fcm/service-accounts", status_code=201)
    async def issue_service_account(request: Request) -> Response:
        """A Firebase service account key file for {"project_id", "token_uri"} (FCM over HTTP/2)."""
        raw = orjson.loads(await request.body() or b"{}")
        project = str(raw.get("project_id") or "sandbox-project")
        return json_response(state.native.issue_service_account(project, str(raw.get("token_uri", ""))), 201)

    @post("/sandbox/apns/keys", status_code=201)
    async def issue_apns_key(request: Request) -> Response:
        """An APNs .p8 key (key id, team id, PEM) for {"team_id"}."""
        raw = orjson.loads(await request.body() or b"{}")
        return json_response(state.native.issue_apns_key(str(raw.get("team_id") or "SANDBOXTMX")), 201)

    return [list_messages, reset_messages, stats, list_faults, add_faults, clear_faults, issue_service_account,
            issue_apns_key]
