"""Where the blog demo keeps its authors and posts.

Two backends sit behind one small asynchronous interface:

* SQLite through the standard library (the default).  ``sqlite3`` blocks, so
  every call runs on one dedicated worker thread; the event loop keeps
  serving other requests meanwhile, and the single thread means the
  connection is never used from two threads at once.
* PostgreSQL through psycopg 3's asynchronous connection, for ``postgresql://``
  URLs (``pip install psycopg[binary]``).

Queries are written once, with ``?`` placeholders; the PostgreSQL backend
turns them into psycopg's ``%s``.  Rows come back as
:class:`tornado.util.ObjectDict`, so templates can write ``entry.title``.
"""

import asyncio
import concurrent.futures
import os
import sqlite3
import urllib.parse
from typing import Any

from tornado.ioloop import IOLoop
from tornado.util import ObjectDict

__all__ = ["Database", "connect"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS authors (
    id {primary_key},
    email VARCHAR(100) NOT NULL UNIQUE,
    name VARCHAR(100) NOT NULL,
    hashed_password VARCHAR(200) NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id {primary_key},
    author_id INTEGER NOT NULL REFERENCES authors(id),
    slug VARCHAR(100) NOT NULL UNIQUE,
    title VARCHAR(512) NOT NULL,
    markdown TEXT NOT NULL,
    html TEXT NOT NULL,
    -- UTC times as ISO 8601 text ("2024-05-01T12:00:00Z"): the same in both
    -- databases, and they sort in time order.
    published VARCHAR(32) NOT NULL,
    updated VARCHAR(32) NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_published ON entries (published);
"""


class Database:
    """The operations the blog needs; see :func:`connect` for a backend."""

    async def query(self, sql: str, *args: Any) -> list[ObjectDict]:
        """Run a SELECT and return all of its rows."""
        raise NotImplementedError()

    async def queryone(self, sql: str, *args: Any) -> ObjectDict | None:
        """Run a SELECT and return its first row, or None when there is none."""
        rows = await self.query(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        """Run a statement that returns no rows."""
        raise NotImplementedError()

    async def insert(self, table: str, **values: Any) -> int:
        """Insert one row into ``table`` and return its new ``id``."""
        raise NotImplementedError()

    async def create_schema(self) -> None:
        """Create the tables if they are not there yet (safe to repeat)."""
        raise NotImplementedError()

    async def close(self) -> None:
        raise NotImplementedError()


class _SQLiteDatabase(Database):
    def __init__(self, path: str) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="blog-sqlite"
        )
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def _run(self, fn: Any, *args: Any) -> "asyncio.Future[Any]":
        return IOLoop.current().run_in_executor(self._executor, fn, *args)

    def _connection(self) -> sqlite3.Connection:
        # Opened lazily on the worker thread, the only thread that uses it.
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA foreign_keys = ON")
        return self._conn

    def _query(self, sql: str, args: Any) -> list[ObjectDict]:
        rows = self._connection().execute(sql, args).fetchall()
        return [ObjectDict(zip(row.keys(), row, strict=True)) for row in rows]

    def _insert(self, sql: str, args: Any) -> int:
        return int(self._connection().execute(sql, args).lastrowid or 0)

    async def query(self, sql: str, *args: Any) -> list[ObjectDict]:
        return await self._run(self._query, sql, args)

    async def execute(self, sql: str, *args: Any) -> None:
        await self._run(self._query, sql, args)

    async def insert(self, table: str, **values: Any) -> int:
        return await self._run(self._insert, _insert_sql(table, values), tuple(values.values()))

    async def create_schema(self) -> None:
        script = _SCHEMA.format(primary_key="INTEGER PRIMARY KEY AUTOINCREMENT")
        await self._run(lambda: self._connection().executescript(script))

    async def close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()

        await self._run(close)
        self._executor.shutdown()


class _PostgresDatabase(Database):
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        from psycopg.rows import dict_row

        self._row_factory = dict_row

    @staticmethod
    def _sql(sql: str) -> str:
        # Our queries never contain a literal "?" or "%", so this is safe.
        return sql.replace("?", "%s")

    async def query(self, sql: str, *args: Any) -> list[ObjectDict]:
        async with self._conn.cursor(row_factory=self._row_factory) as cursor:
            await cursor.execute(self._sql(sql), args)
            return [ObjectDict(row) for row in await cursor.fetchall()]

    async def execute(self, sql: str, *args: Any) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.execute(self._sql(sql), args)

    async def insert(self, table: str, **values: Any) -> int:
        sql = self._sql(_insert_sql(table, values)) + " RETURNING id"
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql, tuple(values.values()))
            row = await cursor.fetchone()
            return int(row[0])

    async def create_schema(self) -> None:
        script = _SCHEMA.format(primary_key="SERIAL PRIMARY KEY")
        async with self._conn.cursor() as cursor:
            for statement in script.split(";"):
                if statement.strip():
                    await cursor.execute(statement)

    async def close(self) -> None:
        await self._conn.close()


def _insert_sql(table: str, values: "dict[str, Any]") -> str:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"


async def connect(url: str) -> Database:
    """Open the database named by ``url``.

    ``sqlite:///blog.db`` is a file relative to the current directory,
    ``sqlite:////var/lib/blog.db`` an absolute path, and a bare file name
    works too.  ``postgresql://user:password@host/dbname`` (or
    ``postgres://``) needs the ``psycopg`` package.
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("postgresql", "postgres"):
        try:
            import psycopg
        except ImportError:
            raise SystemExit(
                f"--db={parsed.scheme} needs psycopg: pip install 'psycopg[binary]'"
            ) from None
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        return _PostgresDatabase(conn)
    if parsed.scheme == "sqlite":
        # urlsplit keeps the leading "/" of the path; "sqlite:///x" is relative.
        path = parsed.path.removeprefix("/")
    elif parsed.scheme == "":
        path = url
    else:
        raise SystemExit(f"unsupported database URL {url!r}: use sqlite:// or postgresql://")
    if path != ":memory:":
        path = os.path.abspath(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
    return _SQLiteDatabase(path)
