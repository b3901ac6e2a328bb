"""SQLite through a bounded set of connections: a few threads in all, never one per query.

Piccolo's SQLiteEngine opens a new aiosqlite connection for every statement outside a
transaction, and aiosqlite runs each connection on its own thread: a response of nested lists
started thousands of threads at once (issue 10, finding 5; 16,510 threads, 1.7 GiB). Here
statements share `statements` pooled connections and transactions `transactions` more, so the
process never holds more than statements + transactions SQLite threads; callers beyond that
wait their turn on the event loop, which costs nothing.

Two pools, not one: a transaction holds its connection across awaits and, on a single-writer
database, may wait on the write lock, while a statement holds one only while it runs. Separate,
a statement never waits behind transactions that wait behind it.

A caller cancelled mid-statement (a request's deadline, a client gone) interrupts the statement
and gives the connection back only once its thread is idle, so the next user never inherits
half-done work; a connection left inside a transaction is closed, never pooled.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory


class Slots:
    """A counting semaphore not bound to one event loop (asyncio's binds to the first loop that
    waits on it; tests and the CLI run several loops, one after another, in one thread)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(None)  # the slot passes straight to the next waiter
                return
        self._free += 1


class ConnectionPool:
    """At most `size` open aiosqlite connections (threads), reused."""

    def __init__(self, connection_kwargs: dict[str, Any], size: int) -> None:
        self._kwargs = connection_kwargs
        self._idle: list[aiosqlite.Connection] = []
        self.slots = Slots(size)

    async def acquire(self) -> aiosqlite.Connection:
        await self.slots.acquire()
        if self._idle:
            return self._idle.pop()
        # Shielded: a connection whose opening was cancelled still starts its thread; it joins
        # the pool instead of living on outside the bound.
        opening = asyncio.ensure_future(self._open())
        try:
            return await asyncio.shield(opening)
        except BaseException:
            opening.add_done_callback(self._opened_for_nobody)
            raise

    def _opened_for_nobody(self, opening: asyncio.Future) -> None:
        if not opening.cancelled() and opening.exception() is None:
            self._idle.append(opening.result())
        self.slots.release()

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self._kwargs)
        # A daemon thread: a pooled connection must not keep the process alive at exit (pytest and
        # `booper` commands hung after their last line). Every commit is already durable in the WAL.
        connection._thread.daemon = True
        await connection
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
        except BaseException:
            await connection.close()
            raise
        return connection

    def release_after(self, connection: aiosqlite.Connection, work: asyncio.Future | None = None) -> None:
        """Back to the pool once `work` (the last thing sent to its thread) is over."""
        if work is not None and not work.done():
            work.add_done_callback(lambda done: self.release_after(connection, done))
            return
        if work is not None and not work.cancelled():
            work.exception()  # retrieved: the caller that awaited it has seen it, or is gone
        if connection.in_transaction:
            asyncio.get_running_loop().create_task(self._discard(connection))
            return
        self._idle.append(connection)
        self.slots.release()

    async def _discard(self, connection: aiosqlite.Connection) -> None:
        try:
            await connection.close()  # an uncommitted transaction is rolled back by closing
        except Exception:  # noqa: BLE001 - a broken connection is dropped either way
            pass
        finally:
            self.slots.release()


async def run_bounded(pool: ConnectionPool, connection: aiosqlite.Connection, work: Any) -> Any:
    """Await `work` on `connection`; cancelled, interrupt it and return the connection later."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    finally:
        if not task.done():
            with contextlib.suppress(sqlite3.ProgrammingError, ValueError):
                connection._conn.interrupt()  # thread-safe in sqlite3; a no-op once it is idle
        pool.release_after(connection, task)


class PooledTransaction(SQLiteTransaction):
    """Piccolo's transaction on a pooled connection, returned (not closed) at the end, and never
    leaked by a cancelled BEGIN (whose thread would later take the write lock for good)."""

    async def __aenter__(self) -> PooledTransaction:
        if self._parent is not None:
            return self._parent
        pool = self.engine.transaction_pool
        self.connection = await pool.acquire()
        begin = asyncio.ensure_future(self.begin())
        try:
            await asyncio.shield(begin)
        except BaseException:
            pool.release_after(self.connection, begin)  # rolled back (closed) if BEGIN went through
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await run_bounded_keep(self, self.rollback())
            elif not self._committed and not self._rolled_back:
                await run_bounded_keep(self, self.commit())
        finally:
            self.engine.current_transaction.reset(self.context)
            self.engine.transaction_pool.release_after(self.connection, self._last)
        return exception is None


async def run_bounded_keep(transaction: PooledTransaction, work: Any) -> None:
    """COMMIT / ROLLBACK shielded from cancellation; the connection is freed when it is over."""
    task = asyncio.ensure_future(work)
    transaction._last = task
    await asyncio.shield(task)


class BoundedSQLiteEngine(SQLiteEngine):
    """SQLiteEngine whose queries run on `statements` + `transactions` pooled connections."""

    def __init__(self, path: str, *, statements: int = 4, transactions: int = 4, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self.statement_pool = ConnectionPool(self.connection_kwargs, statements)
        self.transaction_pool = ConnectionPool(self.connection_kwargs, transactions)

    @property
    def max_connections(self) -> int:
        return self.statement_pool.slots.size + self.transaction_pool.slots.size

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        connection = await self.statement_pool.acquire()
        return await run_bounded(self.statement_pool, connection, _statement(connection, query, args or []))

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None, query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        # The connection's foreign_keys pragma is set once when it is opened (Piccolo repeats it
        # before every statement: a round trip to the thread each time).
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> PooledTransaction:
        transaction = PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)
        transaction._last = None
        return transaction

    async def batch(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("batch() would open a connection outside the pool; page with limit/offset")

    async def get_connection(self) -> Any:
        raise NotImplementedError("connections come from the pools (statement_pool, transaction_pool)")


async def _statement(connection: aiosqlite.Connection, query: str, args: list[Any]) -> list[dict]:
    async with connection.execute(query, args) as cursor:
        await connection.commit()  # a no-op in autocommit mode unless the statement began one
        return await cursor.fetchall()
