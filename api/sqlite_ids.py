"""Ids are never reused, on SQLite too.

SQLite hands out `max(rowid) + 1` for an `INTEGER PRIMARY KEY` without AUTOINCREMENT, so the id of
the newest deleted app, channel or device went to the next one created: a live stream or a cached
permission naming "app 4" then named someone else's app. AUTOINCREMENT makes SQLite remember the
highest id ever used (sqlite_sequence). A key cannot be altered into AUTOINCREMENT, so each table is
rebuilt (SQLite's documented 12-step procedure: new table, copy, drop, rename, indexes) in one
transaction. Idempotent: tables already rebuilt are left alone, so it runs after every migration
(tables created later by Piccolo get the same treatment). PostgreSQL's sequences never reuse ids.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

_KEY = re.compile(r'"id" INTEGER PRIMARY KEY( NOT NULL)?', re.IGNORECASE)


def tables_without_autoincrement(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name != 'migration'"  # Piccolo's own bookkeeping, never referenced by id
    ).fetchall()
    return [(name, sql) for name, sql in rows if _KEY.search(sql) and "AUTOINCREMENT" not in sql.upper()]


def ensure_autoincrement(path: str | Path) -> list[str]:
    """Rebuild every table whose integer key may reuse ids; returns the names rebuilt."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        todo = tables_without_autoincrement(conn)
        if not todo:
            return []
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for name, sql in todo:
                indexes = [
                    r[0]
                    for r in conn.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                        (name,),
                    )
                ]
                columns = ", ".join(f'"{r[1]}"' for r in conn.execute(f'PRAGMA table_info("{name}")'))
                temporary = f"{name}__rebuild"
                create = _KEY.sub('"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL', sql, count=1)
                create = create.replace(f'CREATE TABLE "{name}"', f'CREATE TABLE "{temporary}"', 1)
                conn.execute(create)
                conn.execute(f'INSERT INTO "{temporary}" ({columns}) SELECT {columns} FROM "{name}"')
                conn.execute(f'DROP TABLE "{name}"')
                conn.execute(f'ALTER TABLE "{temporary}" RENAME TO "{name}"')
                for index in indexes:
                    conn.execute(index)
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"rebuilding tables broke foreign keys: {problems[:5]}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        return [name for name, _ in todo]
    finally:
        conn.close()
