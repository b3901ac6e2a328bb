"""S4 baseline: a bare Litestar WebSocket route that speaks just enough graphql-transport-ws and
broadcasts the same bytes.
"""

from __future__ import annotations

from litestar import Litestar, Request, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect

CONNECTIONS: set[WebSocket] = set()


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@websocket("/ws")
async def ws(socket: WebSocket) -> None:
    await socket.accept(subprotocols="graphql-transport-ws")
    try:
        await socket.receive_text()  # connection_init
        await socket.send_text('{"type":"connection_ack"}')
        await socket.receive_text()  # subscribe
        CONNECTIONS.add(socket)
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        CONNECTIONS.discard(socket)


@post("/publish", status_code=200)
async def publish(request: Request) -> dict[str, int]:
    """Send the request body, as text, to every subscriber."""
    text = (await request.body()).decode()
    sent = 0
    for socket in list(CONNECTIONS):
        try:
            await socket.send_text(text)
            sent += 1
        except Exception:  # noqa: BLE001 - a subscriber that went away
            CONNECTIONS.discard(socket)
    return {"sent": sent}


def create() -> Litestar:
    return Litestar(route_handlers=[healthz, ws, publish], openapi_config=None, debug=False)


def main() -> None:
    """Serve it by hand: python -m bench.baseline_ws --port 8300; POST /publish broadcasts the body."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8300)
    args = parser.parse_args()
    uvicorn.run(
        create(),
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        ws_max_size=64 * 1024,
    )


if __name__ == "__main__":
    main()
