"""Writing many rows in few round trips, the same call on both databases.

On PostgreSQL a set of rows becomes one statement over column arrays
(`INSERT ... SELECT * FROM unnest($1::t1[], $2::t2[], ...)`, `UPDATE ... FROM unnest(...)`):
constant SQL text, so psycopg prepares it once, and one round trip however many rows. The
arrays travel in binary (`%b`): text arrays would cost a regex escape per element. Inside
`pipelined(conn)` these statements are not even waited for one by one: psycopg's pipeline mode
sends them together and reads the results at the end. SQLite runs in-process, where plain
executemany is already the fast path.

Rows pass through each column type's bind processing (exact amounts, UTC times, JSON), so the
stored values are the same whichever path wrote them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Connection, Table, bindparam, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

__all__ = ["insert_rows", "update_rows", "pipelined"]


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    sql = _insert_sql(table, columns, conn.dialect)
    _raw_execute(conn, sql, _column_arrays(conn.dialect, table, columns, rows))


def update_rows(conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Set the other columns of each row where `table.key` equals the row's `key` value."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        values = [{("b_" + k if k == key else k): v for k, v in row.items()} for row in rows]
        stmt = update(table).where(table.c[key] == bindparam("b_" + key))
        conn.execute(stmt, values)
        return
    columns = tuple(rows[0])
    sql = _update_sql(table, key, columns, conn.dialect)
    _raw_execute(conn, sql, _column_arrays(conn.dialect, table, columns, rows))


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Send the statements issued inside together and wait once (PostgreSQL); else no-op."""
    if conn.dialect.name != "postgresql":
        yield
        return
    with _as_sqlalchemy_errors(conn, "pipeline"), _driver(conn).pipeline():
        yield


def _driver(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def _raw_execute(conn: Connection, sql: str, params: list[list[Any]]) -> None:
    with _as_sqlalchemy_errors(conn, sql), _driver(conn).cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def _as_sqlalchemy_errors(conn: Connection, statement: str) -> Iterator[None]:
    """Raise driver errors as SQLAlchemy's (IntegrityError, ...), as `Connection.execute` would."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi_error) from exc


def _column_arrays(
    dialect: Dialect, table: Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> list[list[Any]]:
    arrays = []
    for name in columns:
        column_type = table.c[name].type
        values = [row[name] for row in rows]
        if isinstance(column_type, JSON):  # psycopg adapts a lone dict, not one inside an array
            arrays.append([None if v is None else json.dumps(v) for v in values])
            continue
        process = column_type.bind_processor(dialect)
        arrays.append([process(v) for v in values] if process else values)
    return arrays


@lru_cache(maxsize=256)
def _array_types(table: Table, columns: tuple[str, ...], dialect: Dialect) -> list[str]:
    return [f"{table.c[name].type.compile(dialect=dialect)}[]" for name in columns]


@lru_cache(maxsize=256)
def _insert_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    arrays = ", ".join(f"%b::{t}" for t in _array_types(table, columns, dialect))
    return f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"


@lru_cache(maxsize=256)
def _update_sql(table: Table, key: str, columns: tuple[str, ...], dialect: Dialect) -> str:
    arrays = ", ".join(f"%b::{t}" for t in _array_types(table, columns, dialect))
    assignments = ", ".join(f"{c} = v.{c}" for c in columns if c != key)
    return (
        f"UPDATE {table.name} AS t SET {assignments} "
        f"FROM unnest({arrays}) AS v({', '.join(columns)}) WHERE t.{key} = v.{key}"
    )
