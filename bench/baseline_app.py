"""S1 baseline: a bare Litestar route that inserts one notifications row with the statement, engine and pool
Booper's send path uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from litestar import Litestar, Request, Response, get, post


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@post("/send", status_code=200)
async def send(request: Request) -> Response:
    """The insert Booper's send path makes (the same prepared statement through the same pool)."""
    from api.notifications.service import _insert_pg

    doc = orjson.loads(await request.body())
    now = dt.datetime.now(dt.UTC)
    rows = await _insert_pg({
        "app": doc["app"], "channel": doc["channel"], "title": doc.get("title"), "body": doc.get("body"),
        "data": None, "priority": "DEFAULT", "collapse_key": None, "ttl": None, "status": "QUEUED",
        "send_at": None, "created_at": now, "kicked_at": now, "idempotency_scope": None, "idempotency_key": None,
        "critical": False, "presentation": None, "anonymous": False,
    })
    row = {"id": str(rows[0]["id"]), "status": rows[0]["status"]}
    return Response(orjson.dumps({"data": {"sendNotification": row}}), media_type="application/json")


def create() -> Litestar:
    """uvicorn --factory bench.baseline_app:create (reads BOOPER_DATABASE_URL like booper serve)."""
    from api import db

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.start(db.current_engine(), pool_size=10)  # the pool booper serve starts
        try:
            yield
        finally:
            await db.stop(db.current_engine())

    return Litestar(
        route_handlers=[healthz, send], lifespan=[lifespan], openapi_config=None, debug=False
    )


def main() -> None:
    """Serve it by hand for profiling: python -m bench.baseline_app --port 8200 (BOOPER_DATABASE_URL set)."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8200)
    args = parser.parse_args()
    uvicorn.run(create(), host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
