"""Start and stop a process's runtime: database pool, migrations, live hub, limiter, queue."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging

from taskiq import AsyncBroker

from api import db, logs
from api.datadir import secure_data_dir
from api.live.hub import LiveHub
from api.queue import TaskQueue
from api.ratelimit import RateLimiter
from api.runtime import Runtime, set_runtime
from api.settings import Settings

log = logging.getLogger("booper")


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    # Piccolo prints its progress to stdout: as log lines instead (JSON in production).
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        result = await run_forwards(app_name="booper")
    for line in printed.getvalue().splitlines():
        if line.strip():
            log.info("migrations: %s", line.strip())
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
    engine = db.current_engine()
    if not db.is_postgres(engine):
        import asyncio

        from api.sqlite_ids import ensure_autoincrement

        # After every migration, so that tables created later never reuse ids either.
        rebuilt = await asyncio.to_thread(ensure_autoincrement, engine.path)
        if rebuilt:
            log.info("rebuilt %d SQLite tables with AUTOINCREMENT keys", len(rebuilt))


async def start_runtime(
    settings: Settings,
    broker: AsyncBroker,
    priority_broker: AsyncBroker | None = None,
    *,
    migrate: bool = True,
    pool_size: int = 10,
    listen: bool = True,
    warm_pool: bool = False,
) -> Runtime:
    """`listen=False` for processes that serve no live stream (taskiq workers): they publish
    events but do not receive every process's events back. `warm_pool`: every database
    connection opened at start (db.start)."""
    # Before anything reads or writes a secret there: 0700, and files left loose by an older
    # release (or by hand) are tightened to 0600.
    tightened = secure_data_dir(settings.data_dir, settings.resolved_database_url)
    if tightened:
        log.warning("made private (0600): %s", ", ".join(p.name for p in tightened))
    # Again here: whatever built the app (Litestar, uvicorn's factory mode) may have installed
    # handlers of its own since; from start-up on, every line has the one format.
    logs.configure(settings.production)
    engine = db.current_engine()
    await db.start(engine, pool_size=pool_size, warm=warm_pool)
    if migrate:
        await globals()["migrate"]()
    live = LiveHub(settings.redis_url)
    await live.start(listen=listen)
    runtime = Runtime(
        settings=settings,
        queue=TaskQueue(broker, priority_broker),
        live=live,
        limiter=RateLimiter(settings.redis_url),
    )
    set_runtime(runtime)
    return runtime


async def stop_runtime(runtime: Runtime) -> None:
    providers = runtime.extras.pop("providers", None)
    if providers is not None:
        await providers.close()
    for task in runtime.extras.pop("periodic", []):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await runtime.live.stop()
    await runtime.limiter.close()
    from api.notifications import usage

    await usage.stop()
    await db.stop(db.current_engine())
    set_runtime(None)
