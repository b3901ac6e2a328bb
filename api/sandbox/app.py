"""The sandbox providers as one Litestar app, and a function that serves it under uvicorn."""

from pathlib import Path

import uvicorn
from litestar import Litestar
from litestar.types import Receive, Scope, Send

from api.sandbox.control import control_routes
from api.sandbox.expo import expo_routes
from api.sandbox.h2 import start_native_server
from api.sandbox.state import SandboxState
from api.sandbox.webhooks import webhook_routes
from api.sandbox.webpush import PushService, webpush_routes


class SandboxApp(Litestar):
    """Litestar, except that Web Push pushes go straight to the push service (see PushService)."""

    push_service: PushService

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if self.push_service.serves(scope):
            await self.push_service.asgi(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_sandbox_app(state: SandboxState | None = None) -> Litestar:
    """An Expo-compatible push API, a Web Push service and /sandbox controls, sharing `state`."""
    state = state if state is not None else SandboxState()
    push_service = PushService(state)
    app = SandboxApp(
        route_handlers=[
            *expo_routes(state), *webpush_routes(state, push_service), *webhook_routes(state),
            *control_routes(state),
        ],
        openapi_config=None,  # nothing to document; keeps start-up and the hot path lean
        debug=False,
    )
    app.push_service = push_service
    app.state.sandbox = state
    return app


def serve_sandbox(
    host: str = "127.0.0.1",
    port: int = 8787,
    state: SandboxState | None = None,
    log_level: str = "warning",
    native_port: int | None = None,
    cert_dir: Path | None = None,
) -> None:
    """Run the sandbox in the foreground until interrupted (`python -m api.sandbox`). With
    `native_port`, FCM v1 and APNs are served there too, over HTTP/2 with TLS (api/sandbox/h2.py)."""
    state = state if state is not None else SandboxState()
    if native_port is not None:
        native = start_native_server(state, host, native_port, cert_dir)
        print(f"sandbox FCM/APNs (HTTP/2): {native.url}  certificate: {native.ca_file}", flush=True)
    uvicorn.run(
        create_sandbox_app(state),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # no per-request logging: the sandbox is the far end of benchmarks
        timeout_graceful_shutdown=2,  # "timeout" faults stall requests; do not wait for them
    )
