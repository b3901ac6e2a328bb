"""The embedded SQLite engine: a bounded set of connections (threads), transactions intact, and
cancellation that never wedges the database. Runs on its own file in both test runs."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString

from api.db import make_engine
from api.settings import Settings


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'bounded.sqlite3'}", data_dir=tmp_path))
    sqlite3.connect(engine.path).execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").connection.close()
    return engine


async def run(engine, sql: str, *args):
    return await engine.run_querystring(QueryString(sql, *args))


class ThreadPeak:
    """The most threads the process had while the block ran (sampled every millisecond)."""

    def __enter__(self) -> ThreadPeak:
        self.before = threading.active_count()
        self.peak = self.before
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, threading.active_count() - 1)  # minus the sampler

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()


async def test_a_thousand_concurrent_queries_use_a_bounded_set_of_threads(engine):
    await run(engine, "INSERT INTO t (v) VALUES ({})", "x")
    with ThreadPeak() as threads:
        results = await asyncio.gather(*(run(engine, "SELECT v FROM t") for _ in range(1000)))
    assert results == [[{"v": "x"}]] * 1000
    # Piccolo's SQLiteEngine started a thread per statement: hundreds at once here.
    assert threads.peak - threads.before <= 8, (threads.before, threads.peak)


async def test_transactions_commit_roll_back_and_nest(engine):
    async with engine.transaction(transaction_type=TransactionType.immediate):
        await run(engine, "INSERT INTO t (v) VALUES ({})", "kept")
        async with engine.transaction():  # nested: part of the outer one
            await run(engine, "INSERT INTO t (v) VALUES ({})", "kept too")
    with pytest.raises(RuntimeError):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await run(engine, "INSERT INTO t (v) VALUES ({})", "rolled back")
            assert len(await run(engine, "SELECT v FROM t")) == 3  # seen inside
            raise RuntimeError("undo")
    assert [r["v"] for r in await run(engine, "SELECT v FROM t ORDER BY id")] == ["kept", "kept too"]


async def test_many_concurrent_transactions_all_commit(engine):
    async def write(i: int) -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await run(engine, "INSERT INTO t (v) VALUES ({})", str(i))
            await run(engine, "SELECT COUNT(*) AS n FROM t")

    with ThreadPeak() as threads:
        await asyncio.gather(*(write(i) for i in range(200)))
    assert (await run(engine, "SELECT COUNT(*) AS n FROM t"))[0]["n"] == 200
    assert threads.peak - threads.before <= 8, (threads.before, threads.peak)


async def test_a_transaction_cancelled_while_waiting_for_the_lock_does_not_wedge_the_database(engine):
    engine.connection_kwargs["timeout"] = 2
    holder = sqlite3.connect(engine.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock

    async def write(v: str) -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await run(engine, "INSERT INTO t (v) VALUES ({})", v)

    waiting = asyncio.ensure_future(write("cancelled"))
    await asyncio.sleep(0.3)  # BEGIN IMMEDIATE is waiting on the lock in its thread
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    holder.execute("ROLLBACK")
    holder.close()
    # Piccolo's transaction leaked the connection whose BEGIN went through later: it held the
    # write lock for good, and this write failed with "database is locked".
    await asyncio.wait_for(write("after"), 5)
    assert [r["v"] for r in await run(engine, "SELECT v FROM t")] == ["after"]


async def test_a_cancelled_long_statement_is_interrupted_and_its_connection_reused(engine):
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) AS c FROM n"
    )
    started = time.monotonic()
    statements = [asyncio.ensure_future(run(engine, endless)) for _ in range(4)]  # every pooled slot
    await asyncio.sleep(0.2)
    for s in statements:
        s.cancel()
    await asyncio.gather(*statements, return_exceptions=True)
    # The pool's connections come back once interrupted: the next statement runs at once.
    assert await asyncio.wait_for(run(engine, "SELECT 1 AS one"), 5) == [{"one": 1}]
    assert time.monotonic() - started < 5
