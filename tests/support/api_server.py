"""The Booper API served by uvicorn on a free loopback port, inside the tests' event loop.

Sharing the loop means a test can call domain functions directly, and the
in-process queue's tasks run right here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import uvicorn

from api.piccolo_app import TABLES
from api.runtime import Runtime, get_runtime
from api.settings import DEFAULT_WEBPUSH_ORIGINS, get_settings
from tests.support.sandbox import free_port


@dataclass
class ApiServer:
    url: str
    server: uvicorn.Server
    task: asyncio.Task

    @property
    def runtime(self) -> Runtime:
        return get_runtime()

    async def settle(self) -> None:
        """Let the in-process queue finish what it is doing (and cancel retry timers)."""
        from api.brokers import process_brokers
        from api.delivery import senders

        for timer in list(senders._retry_timers):
            timer.cancel()
        await process_brokers()[0].wait_all()
        from api.notifications import usage

        await usage.flush()  # counts of the last test's apps land before its rows go

    async def reset(self) -> None:
        from api import db

        await self.settle()
        engine = db.current_engine()
        names = [t._meta.tablename for t in reversed(TABLES)]
        if db.is_postgres(engine):
            import asyncpg

            # DELETE, not TRUNCATE: a test leaves a few rows in a few tables, and TRUNCATE gives each
            # of the 24 tables new files (0.37 s a test, a third of the PostgreSQL pass). Ids go on
            # growing across tests, as they do in production (they are never reused).
            # The periodic jobs (sweep, webhooks) keep running between tests: the DELETEs can meet
            # one of their writes in a deadlock, which PostgreSQL resolves by aborting one side; retry.
            for attempt in range(5):
                try:
                    async with engine.pool.acquire() as connection:
                        await connection.execute("; ".join(f"DELETE FROM {name}" for name in names))
                    break
                except asyncpg.exceptions.DeadlockDetectedError:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.1)
        else:
            for name in names:
                await TABLES[0].raw(f"DELETE FROM {name}")
        await self.runtime.limiter.reset()
        from api.apps import keycache
        from api.channels import service as channels

        keycache.forget()
        channels.forget_cached()

    async def stop(self) -> None:
        await self.settle()
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 10)


async def start_api_server(sandbox_url: str, native_url: str | None = None, ca_file: str | None = None) -> ApiServer:
    from api.http.app import create_app

    settings = get_settings()
    settings.expo_url = sandbox_url
    if native_url:  # FCM and APNs: the sandbox's HTTP/2 server
        settings.fcm_url = settings.apns_url = settings.apns_development_url = native_url
        settings.fcm_token_url = f"{native_url}/token"
        settings.provider_ca_file = ca_file
    settings.webpush_allowed_origins = ",".join([*DEFAULT_WEBPUSH_ORIGINS, sandbox_url])
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", proxy_headers=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    else:
        raise RuntimeError("API server did not start")
    return ApiServer(f"http://127.0.0.1:{port}", server, task)
