"""S1 ingest: sendNotification at concurrency 32 against a bare Litestar insert route on the same engine."""

from __future__ import annotations

import redis

from bench import loadgen
from bench.report import Row
from bench.topology import REDIS_URL, SEND, Ctx, free_port

CONNS = 32


def _count(ctx: Ctx, cid: int) -> int:
    return ctx.topo.sql("SELECT count(*) AS n FROM notifications WHERE channel = $1", cid)[0]["n"]


def _measure(ctx: Ctx, cid: int, url: str, body: dict, auth: str | None, duration: float) -> dict:
    workdir = ctx.topo.tmp
    loadgen.run(
        url, body, auth, 2, CONNS, workdir
    )  # warm-up: pool, caches, JIT-free but lazy imports
    before = _count(ctx, cid)
    result = loadgen.run(url, body, auth, duration, CONNS, workdir)
    result["accepted"] = _count(ctx, cid) - before
    result["accepted_per_s"] = result["accepted"] / result["duration_s"]
    return result


def _settle(ctx: Ctx, cid: int) -> None:
    """Retire the flood: drop its fan-out tasks and close its rows, so later scenarios start clean."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    ctx.topo.sql(
        "UPDATE notifications SET status = 'COMPLETED', fanout_done = true WHERE channel = $1", cid
    )


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    topo = ctx.topo
    duration = 8 if ctx.quick else 30
    # Ingest is the API's work: workers are left out so they do not share the 2 cores with it.
    topo.stop("worker")
    topo.stop("scheduler")
    cid = ctx.channel("s1")
    body = {"query": SEND, "variables": {"i": {"channel": "s1", "title": "bench", "body": "hello"}}}
    booper = _measure(ctx, cid, topo.url, body, ctx.key, duration)
    _settle(ctx, cid)

    port = free_port()
    topo.uvicorn("bare-http", "bench.baseline_app:create", port)
    try:
        bare_body = {"app": ctx.app_id, "channel": cid, "title": "bench", "body": "hello"}
        bare = _measure(ctx, cid, f"http://127.0.0.1:{port}/send", bare_body, None, duration)
    finally:
        topo.stop("bare-http")
    _settle(ctx, cid)

    rate = booper["accepted_per_s"]
    rows = [
        Row(
            "S1",
            "accepted/s",
            rate,
            "/s",
            bare["accepted_per_s"],
            "bare Litestar insert",
            ">= 1,500/s and >= 0.6x bare",
            # A baseline that accepted nothing (it failed) proves nothing: not met.
            rate >= 1500 and bare["accepted_per_s"] > 0 and rate >= 0.6 * bare["accepted_per_s"],
        ),
        Row("S1", "p50 latency", booper["p50_ms"], "ms", bare["p50_ms"], "bare", "-", None, False),
        Row(
            "S1",
            "p99 latency",
            booper["p99_ms"],
            "ms",
            bare["p99_ms"],
            "bare",
            "< 50 ms",
            booper["p99_ms"] < 50,
            False,
        ),
    ]
    return rows, {
        "generator": booper["generator"],
        "concurrency": CONNS,
        "duration_s": duration,
        "booper": booper,
        "bare": bare,
    }
