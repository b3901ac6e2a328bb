"""Database engine from settings: PostgreSQL through asyncpg, or the embedded SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from pathlib import Path
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine

from api.settings import Settings
from api.sqlite_engine import BoundedSQLiteEngine

log = logging.getLogger("booper.db")


class _Transaction(PostgresTransaction):
    """Piccolo's transaction, made safe for a connection that dies in the middle of it (PostgreSQL
    stopped, restarting, failing over). Piccolo's leaves the pool's connection unreturned when BEGIN
    fails, and when the rollback on a dead connection fails it also stays the task's current
    transaction: every later statement of that task, and every transaction it opens (taken for a
    nested one), ran on the dead connection. A CI chaos run had a sender retry its record that way
    until its lease ran out, and the sweep sent its batch's 1,000 rows again. Here the connection
    always goes back to the pool (which replaces a closed one) and the task is out of it, as
    api/sqlite_engine.py's PooledTransaction does for the embedded database's own pool."""

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back and not self.connection.is_closed():
                    await self.rollback()  # a closed connection's transaction ended with it
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                self.engine.current_transaction.reset(self.context)
            finally:
                await self._give_back()
        return exception is None

    async def _give_back(self) -> None:
        try:
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:  # no pool (a one-off command): its own connection
                await self.connection.close()
        except Exception:  # noqa: BLE001 - asyncpg terminates a connection it cannot reset
            log.debug("database pool: a connection could not be reset; asyncpg closed it", exc_info=True)


class _PostgresEngine(PostgresEngine):
    def transaction(self, allow_nested: bool = True) -> _Transaction:
        return _Transaction(engine=self, allow_nested=allow_nested)


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    if settings.is_postgres:
        return _PostgresEngine(config={"dsn": url})
    parsed = urlparse(url)
    if parsed.scheme != "sqlite":
        raise ValueError(f"BOOPER_DATABASE_URL must be postgresql://... or sqlite:///path, got {url!r}")
    path = Path(parsed.path if not parsed.netloc else parsed.netloc + parsed.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _enable_wal(path)
    # A generous busy timeout: SQLite serialises writers, and the embedded default
    # runs the API, the queue and periodic jobs in one process against one file.
    # Bounded: Piccolo's own engine starts a thread per statement (api/sqlite_engine.py).
    return BoundedSQLiteEngine(str(path), statements=4, transactions=4, timeout=30)


def _enable_wal(path: Path) -> None:
    """WAL lets readers go on while one writer commits; it is a property of the file."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def is_postgres(engine: Engine) -> bool:
    return engine.engine_type == "postgres"


async def start(engine: Engine, *, pool_size: int = 10, warm: bool = False) -> None:
    """`warm`: open every connection of the pool now (workers): a connection opened under load
    costs the task that waits for it a new backend's cold caches and asyncpg's type introspection
    (20-35 ms each on a busy box, ten of them in a 10k fan-out)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=pool_size if warm else 2, max_size=pool_size,
                                           reset=_release, init=_introspected)


async def _introspected(connection) -> None:
    """Each new connection learns the array types the hot paths bind (`= ANY($1::bigint[])`, a send
    batch's outcomes and a direct send's identifiers as text[]) and return (the fan-out's
    `array_agg(platform)`, varchar[]) when it opens: asyncpg introspects a non-scalar type once per
    connection, with a catalog query slow on a cold backend, and would otherwise do it inside the
    first statement that uses it (an API connection opened for a burst of direct sends did, in the
    middle of a send)."""
    await connection.fetchrow("SELECT CAST($1 AS BIGINT[]), CAST($2 AS VARCHAR[]), CAST($3 AS TEXT[])", [], [], [])


async def _release(connection) -> None:
    """On the way back to the pool. asyncpg's default also runs `RESET ALL; UNLISTEN *; CLOSE ALL;
    pg_advisory_unlock_all()`, a round trip per release for session state Booper never sets; an
    open transaction (a task cancelled mid-way) is still rolled back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def fetch(sql: str, *args) -> list[dict]:
    """One statement straight through asyncpg (PostgreSQL only): for the hot paths where building
    the Piccolo query and its result dicts costs more than running it. `$1` placeholders; asyncpg
    prepares each distinct statement once per connection. Inside a transaction (db.transaction),
    on its connection."""
    return [dict(r) for r in await fetch_records(sql, *args)]


def numbered(sql: str) -> str:
    """Piccolo's raw placeholders (`{}`, in order) as asyncpg's ($1, $2, ...), for a statement
    written for both databases and run through `fetch` on PostgreSQL."""
    parts = sql.split("{}")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, 1))


async def fetch_records(sql: str, *args) -> list:
    """As `fetch`, the rows as asyncpg gives them (read-only mappings: r["id"], r.get("id")),
    without a dict built per row: for a batch's thousand rows that are only read."""
    engine = current_engine()
    transaction = engine.current_transaction.get()
    if transaction is not None:
        return await transaction.connection.fetch(sql, *args)
    async with engine.pool.acquire() as connection:
        return await connection.fetch(sql, *args)


async def fetch_probing(sql: str, *args) -> list[dict]:
    """As `fetch`, planned without bitmap scans: for a statement of many small index probes (a
    LATERAL per device), where the planner's estimate of a row or two per probe makes a bitmap
    scan look as cheap as an index scan, while its set-up costs several times more for so few
    rows (the cap's read: 9.3 against 5.4 ms for 1,000 probes of nine rows). SET LOCAL, so only
    this statement's transaction; inside a caller's transaction, RESET right after."""
    engine = current_engine()
    transaction = engine.current_transaction.get()
    if transaction is not None:
        connection = transaction.connection
        await connection.execute("SET LOCAL enable_bitmapscan = off")
        rows = await connection.fetch(sql, *args)
        await connection.execute("RESET enable_bitmapscan")
        return [dict(r) for r in rows]
    async with engine.pool.acquire() as connection, connection.transaction():
        await connection.execute("SET LOCAL enable_bitmapscan = off")
        return [dict(r) for r in await connection.fetch(sql, *args)]


# How long shutdown waits for connections still in use before it closes them anyway.
CLOSE_GRACE = 5.0


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        # A connection held by work that never returns it (a statement stuck behind a lock, a task
        # nobody awaits) must not hold the process up forever: after a grace period, terminate.
        try:
            await asyncio.wait_for(asyncio.shield(engine.pool.close()), CLOSE_GRACE)
        except TimeoutError:
            log.warning("database pool: connections still in use after %.0f s; terminating them", CLOSE_GRACE)
            engine.pool.terminate()


def row_lock(mode: str = "FOR NO KEY UPDATE") -> str:
    """A SELECT's locking clause on PostgreSQL; nothing on SQLite, whose write transaction
    (BEGIN IMMEDIATE, see transaction) already holds every other writer off. NO KEY UPDATE by
    default: it keeps concurrent creators of the same kind apart, and leaves alone the foreign-key
    checks (FOR KEY SHARE) of rows that merely refer to the locked one."""
    return f" {mode}" if is_postgres(current_engine()) else ""


async def lock_row(table: str, row_id: int) -> bool:
    """Lock one row (row_lock) until the transaction ends; whether it exists."""
    from api.apps.tables import App  # any table's raw: it runs on the current transaction's connection

    return bool(await App.raw(f"SELECT id FROM {table} WHERE id = {{}}{row_lock()}", row_id))


def transaction():
    """A write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so two
    writers queue on the busy timeout instead of one failing to upgrade a read lock."""
    from piccolo.engine.sqlite import TransactionType

    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def current_engine() -> Engine:
    """PICCOLO_CONF's engine: made once per process (api/piccolo_conf.py), so found once."""
    global _engine
    if _engine is None:
        from piccolo.engine.finder import engine_finder

        _engine = engine_finder()
    return _engine


_engine: Engine | None = None


def parse_timestamps(rows: list[dict], *keys: str) -> list[dict]:
    """Raw SQL on SQLite returns timestamptz columns as text (there is no declared column type
    to convert by, as Piccolo's own queries have): turn those values into datetimes, in place."""
    for row in rows:
        for key in keys:
            if isinstance(row.get(key), str):
                row[key] = dt.datetime.fromisoformat(row[key])
    return rows
