"""Rate limits are shared by every API process through Redis: two `booper serve` processes,
one budget."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import redis

from tests.support import databases
from tests.support.processes import Process, booper
from tests.support.sandbox import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]
REDIS_URL = databases.redis_url(3)
SEND = 'mutation($c: String!) { sendNotification(input: {channel: $c, body: "hi"}) { id } }'


def test_two_api_processes_share_one_rate_limit_budget(tmp_path):
    db_url = databases.create_postgres_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        "BOOPER_DATABASE_URL": db_url,
        "BOOPER_REDIS_URL": REDIS_URL,
        "BOOPER_DATA_DIR": str(tmp_path / "data"),
        "BOOPER_SECRET_KEY": "shared-limits-test-secret-0000000000000",
        "BOOPER_ANONYMOUS_CHANNEL_RATE": "10/minute",
        "BOOPER_ANONYMOUS_IP_RATE": "1000/minute",
    }
    ports = [free_port(), free_port()]
    procs = []
    try:
        for i, port in enumerate(ports):
            procs.append(Process(f"serve-{i}", booper("serve", "--port", str(port)), env, tmp_path))
            procs[-1].wait_http(f"http://127.0.0.1:{port}/healthz")

        async def fire() -> list[dict]:
            async with httpx.AsyncClient(timeout=15) as client:
                async def one(i: int) -> dict:
                    url = f"http://127.0.0.1:{ports[i % 2]}/graphql"
                    response = await client.post(url, json={"query": SEND, "variables": {"c": "shared"}})
                    return response.json()
                return await asyncio.gather(*(one(i) for i in range(30)))

        results = asyncio.run(fire())
        accepted = [r for r in results if not r.get("errors")]
        refused = [r["errors"][0] for r in results if r.get("errors")]
        assert len(accepted) == 10
        assert {e["extensions"]["code"] for e in refused} == {"RATE_LIMITED"}
        assert all(e["extensions"]["retryAfter"] >= 1 for e in refused)
    finally:
        for p in procs:
            p.stop()
        databases.drop_postgres_database(db_url)
