"""The Litestar application: POST/GET /graphql, graphql-transport-ws on the same path, /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State
from strawberry.litestar import make_graphql_controller
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.bootstrap import start_periodic_jobs, start_runtime, stop_runtime
from api.graphql.context import context_getter
from api.graphql.schema import build_schema
from api.settings import Settings

MAX_BODY = 256 * 1024


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(settings: Settings, *, embedded_jobs: bool | None = None) -> Litestar:
    """`embedded_jobs`: run the queue's consumers and periodic jobs in this process (the
    default when no Redis is configured: the in-process broker lives here)."""
    from tasks.broker import broker, priority_broker
    import tasks.delivery  # noqa: F401 - registers the tasks on the brokers

    in_process = embedded_jobs if embedded_jobs is not None else not settings.redis_url
    schema = build_schema(introspection=settings.introspection_enabled)
    controller = make_graphql_controller(
        schema,
        path="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql" if not settings.production else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        keep_alive=True,
        keep_alive_interval=15,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await start_runtime(settings, broker, priority_broker)
        app.state.runtime = runtime
        await broker.startup()
        if in_process:
            start_periodic_jobs(runtime)
        try:
            yield
        finally:
            await broker.shutdown()
            await stop_runtime(runtime)

    return Litestar(
        route_handlers=[controller, healthz],
        lifespan=[lifespan],
        state=State({}),
        request_max_body_size=MAX_BODY,
        debug=False,
    )


def app_from_env() -> Litestar:
    """uvicorn factory: `uvicorn --factory api.http.app:app_from_env`."""
    from api.settings import get_settings

    return create_app(get_settings())

