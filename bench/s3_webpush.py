"""S3 Web Push fan-out: one notification to N sandbox browsers until every delivery is DELIVERED,
against a naive pywebpush loop.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from bench.report import Row
from bench.s2_expo import fan_out
from bench.topology import Ctx


async def _subscriptions(sandbox: str, n: int) -> list[dict]:
    """N sandbox browser subscriptions (each a key pair made by the sandbox), 32 requests at a time."""
    async with httpx.AsyncClient(
        base_url=sandbox, timeout=30, limits=httpx.Limits(max_connections=32)
    ) as client:
        sem = asyncio.Semaphore(32)

        async def one() -> dict:
            async with sem:
                r = await client.post("/webpush/subscriptions", content=b"")
                r.raise_for_status()
                return r.json()

        return await asyncio.gather(*(one() for _ in range(n)))


def seed(ctx: Ctx, cid: int, tag: str, subs: list[dict]) -> None:
    async def go() -> None:
        import asyncpg

        conn = await asyncpg.connect(ctx.topo.db_url)
        try:
            await conn.executemany(
                "INSERT INTO devices (platform, token, p256dh, auth, identifier, active, created_at)"
                " VALUES ('WEB', $1, $2, $3, $4, true, now())",
                [(s["endpoint"], s["keys"]["p256dh"], s["keys"]["auth"], tag) for s in subs],
            )
            await conn.execute(
                "INSERT INTO channel_subscriptions (channel, device, created_at)"
                " SELECT $1, id, now() FROM devices WHERE identifier = $2",
                cid,
                tag,
            )
        finally:
            await conn.close()

    asyncio.run(go())


def naive_rate(subs: list[dict]) -> dict:
    """pywebpush as its README shows it: webpush() per subscription, one at a time."""
    from pywebpush import webpush

    from api.providers.vapid import generate_vapid_private_key

    key = generate_vapid_private_key()
    data = json.dumps({"title": "bench", "body": "hello"})
    info = lambda s: {"endpoint": s["endpoint"], "keys": s["keys"]}  # noqa: E731
    webpush(
        info(subs[0]),
        data,
        vapid_private_key=key,
        vapid_claims={"sub": "mailto:bench@example.com"},
        ttl=60,
    )
    t0 = time.perf_counter()
    for s in subs:
        webpush(
            info(s),
            data,
            vapid_private_key=key,
            vapid_claims={"sub": "mailto:bench@example.com"},
            ttl=60,
        )
    elapsed = time.perf_counter() - t0
    return {
        "messages": len(subs),
        "seconds": elapsed,
        "per_s": len(subs) / elapsed,
        "us_per_message": elapsed / len(subs) * 1e6,
    }


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    ctx.topo.ensure_workers()
    n = 2_000 if ctx.quick else 10_000
    m = 50 if ctx.quick else 200
    subs = asyncio.run(_subscriptions(ctx.topo.sandbox, n + m))
    naive = naive_rate(subs[n:])
    cid = ctx.channel("s3")
    seed(ctx, cid, f"s3-{time.time_ns()}", subs[:n])
    httpx.delete(f"{ctx.topo.sandbox}/sandbox/messages")
    got = fan_out(ctx, "s3", n, "DELIVERED", timeout=max(60, n / 200))
    stats = httpx.get(f"{ctx.topo.sandbox}/sandbox/stats").json()
    rate = got["per_s"]
    rows = [
        Row(
            "S3",
            f"deliveries/s N={n:,}",
            rate,
            "/s",
            naive["per_s"],
            "naive pywebpush loop",
            ">= 4k/s and >= 3x naive",
            rate >= 4000 and rate >= 3 * naive["per_s"],
        )
    ]
    return rows, {
        "naive": naive,
        "fan_out": got,
        "sandbox_peak_in_flight": stats.get("peak_in_flight"),
    }
