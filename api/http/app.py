"""The Litestar application: POST/GET /graphql and graphql-transport-ws on the same path
(api/http/graphql.py), /healthz, /readyz and /metrics; the per-client WebSocket limit."""

from __future__ import annotations

import asyncio
import gc
import hmac
from collections import Counter as Tally
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import HTTPException as LitestarHTTPException
from litestar.types import ASGIApp, Receive, Scope, Send

from api import logs, metrics
from api.bootstrap import start_runtime, stop_runtime
from api.brokers import process_brokers
from api.client_address import client_address
from api.delivery.jobs import start_periodic_jobs
from api.graphql.fastpath import PreparedSends
from api.graphql.schema import MAX_ALIASES, MAX_TOKENS, build_schema
from api.http.graphql import coded_http_error, graphql_controller
from api.http.prepared import prepared_sends
from api.ratelimit import address_bucket
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
async def metrics_endpoint(state: State, request: Request) -> Response[bytes]:
    """Prometheus exposition format; with BOOPER_METRICS_TOKEN set, only for
    `Authorization: Bearer <token>` (the figures tell an outsider how busy the service is)."""
    from api.notifications.tables import Delivery

    token = state.runtime.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, credential = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential.strip().encode(), token.encode()):
            return Response(b"metrics need Authorization: Bearer <BOOPER_METRICS_TOKEN>\n", status_code=401,
                            media_type="text/plain", headers={"www-authenticate": 'Bearer realm="metrics"'})

    metrics.PENDING_DELIVERIES.set(await Delivery.count().where(Delivery.status == "PENDING"))
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


def websocket_limit(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: at most `settings.ws_connections_per_client` open WebSockets per client
    address (behind trusted proxies, the forwarded client's, not the proxy's), so one client cannot
    hold every socket of the process; refused at the handshake (HTTP 403). Settings are read live."""
    open_per_client: Tally[str] = Tally()
    opened = 0

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "websocket":
                await app(scope, receive, send)
                return
            # Per IPv4 address or IPv6 /64 (a subscriber holds a whole /64).
            client = address_bucket(client_address(scope, settings.trusted_proxy_list, settings.proxy_secret))
            if open_per_client[client] >= settings.ws_connections_per_client:
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
    broker, priority_broker = process_brokers()
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
            websocket_limit(settings),
            prepared_sends(prepared, MAX_BODY),
        ],
        state=State({}),
        request_max_body_size=MAX_BODY,
        exception_handlers={LitestarHTTPException: coded_http_error, Exception: coded_http_error},
        debug=False,
    )


def app_from_env() -> Litestar:
    """uvicorn factory: `uvicorn --factory api.http.app:app_from_env`."""
    from api.settings import get_settings

    return create_app(get_settings())
