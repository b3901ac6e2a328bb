"""Test databases: a throwaway PostgreSQL database, or a SQLite file in a temp directory.

BOOPER_TEST_DB=postgres|sqlite picks one (default sqlite). PostgreSQL comes from
BOOPER_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import asyncio
import os
import uuid

PG_ADMIN_URL = os.environ.get("BOOPER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BOOPER_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_url(slot: int) -> str:
    """A Redis database of its own for one group of tests: slot 0 is REDIS_URL's, slot k the k-th
    below it (slots 0-5 are in use). scripts/test gives its SQLite and PostgreSQL passes, which run
    side by side, REDIS_URL numbers 15 and 9, so their slots (15-10 and 9-4) never meet."""
    base, number = REDIS_URL.rsplit("/", 1)
    return f"{base}/{int(number) - slot}"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_postgres_database() -> str:
    name = f"booper_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_reachable() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:  # noqa: BLE001
        return False
