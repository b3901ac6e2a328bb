"""The Litestar application: POST/GET /graphql, graphql-transport-ws on the same path,
/healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter as Tally
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from litestar import Litestar, Request, Response, get
from litestar.background_tasks import BackgroundTasks
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import WebSocketDisconnect
from litestar.types import ASGIApp, Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.litestar import make_graphql_controller
from strawberry.litestar.controller import _context_getter_http
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types import ExecutionResult

from api import logs, metrics
from api.bootstrap import start_periodic_jobs, start_runtime, stop_runtime
from api.graphql.context import context_getter
from api.graphql.errors import shape
from api.graphql.fastpath import PreparedSends
from api.graphql.schema import MAX_ALIASES, MAX_TOKENS, build_schema
from api.http.prepared import prepared_sends
from api.live.shared import next_message
from api.settings import Settings

MAX_BODY = 256 * 1024
# Every this many WebSockets opened, the objects that exist leave the cyclic collector's sight
# (gc.freeze, as the start-up objects do). Connections are long-lived: with 10,000 of them, a
# collection that walked them all during a live event stalled it for most of a second.
FREEZE_EVERY = 500
# What frozen objects leave behind in reference cycles (closed connections' tasks, exceptions)
# is only found by a collection after gc.unfreeze(): one, at a time of Booper's choosing, this often.
THAW_EVERY = 900.0


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(state: State) -> Response[dict[str, Any]]:
    """The database (and Redis, when configured) answer: ready for traffic."""
    from api.piccolo_app import TABLES

    checks: dict[str, str] = {}
    try:
        await TABLES[0].raw("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"error: {type(exc).__name__}"
    redis_url = state.runtime.settings.redis_url
    if redis_url:
        import redis.asyncio as aioredis

        client = aioredis.from_url(redis_url, socket_connect_timeout=2)
        try:
            await client.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
        finally:
            await client.aclose()
    ready = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503)


@get("/metrics")
async def metrics_endpoint(state: State) -> Response[bytes]:
    """Prometheus exposition format."""
    from api.notifications.tables import Delivery

    metrics.PENDING_DELIVERIES.set(await Delivery.count().where(Delivery.status == "PENDING"))
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


def graphql_controller(settings: Settings, schema: Any, prepared: PreparedSends) -> type:
    base = make_graphql_controller(
        schema,
        path="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql" if not settings.production else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        keep_alive=True,  # pings idle connections so proxies and dead peers are noticed
        keep_alive_interval=15,
    )

    class GraphQLController(base):  # type: ignore[misc, valid-type]
        # Strawberry provides the sub-response with sync_to_thread=True: a worker-thread hop on
        # every request for building an empty Response (about a sixth of a send's CPU).
        # Litestar resolves independent dependencies of one level concurrently, in an anyio task
        # group per request (about 8% of a send's CPU): chained, each level has one and none is
        # spawned. HTTP: response -> custom_context -> root_value -> context.
        dependencies: ClassVar[dict[str, Provide]] = {
            **base.dependencies,
            "response": Provide(_new_response, sync_to_thread=False),
            "custom_context": Provide(_custom_context),
            "root_value": Provide(_no_root_value, sync_to_thread=False),
            "context": Provide(_http_context),
        }

        graphql_transport_ws_handler_class = LiveTransportWSHandler

        async def execute_single(  # noqa: PLR0913, PLR0917 - Strawberry's signature
            self, request: Any, request_adapter: Any, sub_response: Any, context: Any, root_value: Any,
            request_data: Any,
        ) -> ExecutionResult:
            # The hot mutation's prepared plan (api/graphql/fastpath.py); the rest, and whatever
            # the plan declines, through Strawberry.
            if request_adapter.method == "POST":
                plan = prepared.plan(request_data.query, request_data.operation_name)
                if plan is not None:
                    result = await plan.run(context, request_data.variables)
                    if result is not None:
                        return result
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )

        async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
            # Parse errors (e.g. the token limit) bypass schema extensions: shape them here too,
            # so every error that leaves carries extensions.code.
            if result.errors:
                result.errors = [shape(e) for e in result.errors]
            return await super().process_result(request, result)

    return GraphQLController


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws with `next` messages encoded once per shared result (api/live/shared.py)."""

    async def send_message(self, message: Any) -> None:
        payload = message.get("payload")
        if message.get("type") == "next" and isinstance(payload, dict) and payload.keys() == {"data"}:
            try:
                text = next_message(message["id"], payload["data"])
            except TypeError:  # a value orjson cannot encode: the general path
                pass
            else:
                try:
                    await self.websocket.ws.send_data(data=text)
                except WebSocketDisconnect as exc:
                    raise WebSocketDisconnected from exc
                return
        await super().send_message(message)


def _new_response() -> Response:
    return Response({}, background=BackgroundTasks([]))


async def _custom_context(state: State, response: Response) -> Any:  # noqa: ARG001 - orders the chain
    return await context_getter(state)


def _no_root_value(custom_context: Any) -> None:  # noqa: ARG001 - orders the chain
    return None


async def _http_context(custom_context: Any, response: Response, request: Request, root_value: Any) -> Any:  # noqa: ARG001
    return await _context_getter_http(custom_context, response, request)


def websocket_limit(limit: Callable[[], int]) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: at most `limit()` open WebSockets per client address, so one client cannot
    hold every socket of the process; refused at the handshake (HTTP 403)."""
    open_per_client: Tally[str] = Tally()
    opened = 0

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "websocket":
                await app(scope, receive, send)
                return
            client = (scope.get("client") or ("unknown", 0))[0]
            if open_per_client[client] >= limit():
                await send({"type": "websocket.close", "code": 4429, "reason": "too many connections"})
                return
            open_per_client[client] += 1
            metrics.LIVE_SUBSCRIBERS.inc()
            nonlocal opened
            opened += 1
            if opened % FREEZE_EVERY == 0:
                gc.freeze()
            try:
                await app(scope, receive, send)
            finally:
                metrics.LIVE_SUBSCRIBERS.dec()
                open_per_client[client] -= 1
                if open_per_client[client] <= 0:
                    del open_per_client[client]

        return guarded

    return middleware


async def _thaw_periodically(interval: float) -> None:
    """Collect what the frozen generation hides (see FREEZE_EVERY), then freeze again."""
    while True:
        await asyncio.sleep(interval)
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def create_app(settings: Settings, *, embedded_jobs: bool | None = None) -> Litestar:
    """`embedded_jobs`: run the queue's consumers and periodic jobs in this process (the
    default when no Redis is configured: the in-process broker lives here)."""
    import tasks.delivery  # noqa: F401 - registers the tasks on the brokers
    import tasks.maintenance  # noqa: F401
    from tasks.broker import broker, priority_broker

    logs.configure(settings.production)
    in_process = embedded_jobs if embedded_jobs is not None else not settings.redis_url

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await start_runtime(settings, broker, priority_broker)
        app.state.runtime = runtime
        await broker.startup()
        if priority_broker is not broker:
            await priority_broker.startup()
        if in_process:
            start_periodic_jobs(runtime)
        # Start-up objects (schema, modules) never die: out of the GC's sight, a full collection
        # with 10k live subscriptions scans far less and pauses a fraction as long.
        gc.collect()
        gc.freeze()
        thaw = asyncio.create_task(_thaw_periodically(THAW_EVERY), name="gc-thaw")
        try:
            yield
        finally:
            thaw.cancel()
            await broker.shutdown()
            if priority_broker is not broker:
                await priority_broker.shutdown()
            await stop_runtime(runtime)

    schema = build_schema(introspection=settings.introspection_enabled)
    # Prepared sendNotification plans: answered at the front door when the request is plain JSON,
    # else inside Strawberry's view (execute_single); the same plans either way.
    prepared = PreparedSends(schema, max_aliases=MAX_ALIASES, max_tokens=MAX_TOKENS)
    return Litestar(
        route_handlers=[graphql_controller(settings, schema, prepared), healthz, readyz, metrics_endpoint],
        lifespan=[lifespan],
        middleware=[
            websocket_limit(lambda: settings.ws_connections_per_client),
            prepared_sends(prepared, MAX_BODY),
        ],
        state=State({}),
        request_max_body_size=MAX_BODY,
        debug=False,
    )


def app_from_env() -> Litestar:
    """uvicorn factory: `uvicorn --factory api.http.app:app_from_env`."""
    from api.settings import get_settings

    return create_app(get_settings())
