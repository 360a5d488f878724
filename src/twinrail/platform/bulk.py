"""Writing everything a unit of work staged in as few statements as possible, on both databases.

On PostgreSQL the rows for one table travel as one JSON document and are expanded on the server
(`INSERT ... SELECT ... FROM json_populate_recordset(NULL::t, $1)`, `UPDATE ... FROM ...`), and
all the staged writes of a unit of work become ONE statement of data-modifying CTEs
(`WITH w0 AS (INSERT ...), w1 AS (UPDATE ...) SELECT 1`), each of which PostgreSQL runs to
completion. The SQL text depends only on the shape (tables and columns), so psycopg prepares
it once per connection. On this kind of machine every statement costs a round trip and a fair
amount of system time on both sides, so the statement count is what bounds the write rate; and
one JSON document per table is far cheaper to build in Python than typed arrays per column
(json.dumps runs in C; psycopg's array dumpers inspect every element in Python). JSON keeps
integers of any size exact, so NUMERIC(78,0) amounts round-trip unchanged. SQLite runs
in-process, where plain executemany per table is already the fast path.

Both paths store the same values: the SQLite path binds through the column types (sortable
amount text, UTC times); the PostgreSQL path hands ints, nested JSON and aware times to the
server's own conversions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ClauseElement

__all__ = [
    "StagedWrite",
    "write_all",
    "write_and_commit",
    "execute_and_commit",
    "fetch_in_one_trip",
    "Query",
    "as_sqlalchemy_errors",
]


@dataclass(frozen=True, slots=True)
class StagedWrite:
    """Rows to insert into `table`, or, with `key`, to update where `table.key` matches."""

    table: Table
    rows: list[dict[str, Any]]
    key: str | None = None

    @property
    def shape(self) -> tuple[Table, tuple[str, ...], str | None]:
        return (self.table, tuple(self.rows[0]), self.key)


def write_all(conn: Connection, writes: Sequence[StagedWrite]) -> None:
    """Apply `writes` in order inside the caller's transaction."""
    writes = [w for w in writes if w.rows]
    if not writes:
        return
    if conn.dialect.name != "postgresql":
        for w in writes:
            _write_with_executemany(conn, w)
        return
    updated = [w.table for w in writes if w.key]
    if len(updated) != len(set(updated)):
        # One statement may not update a row twice; keep such writes in separate statements.
        for w in writes:
            _raw_execute(conn, _cte_sql((w.shape,)), _params([w]))
        return
    shapes = tuple(w.shape for w in writes)
    _raw_execute(conn, _cte_sql(shapes), _params(writes))


def write_and_commit(conn: Connection, writes: Sequence[StagedWrite]) -> None:
    """Apply `writes` and commit; on PostgreSQL both travel in one round trip (pipeline mode).

    If a write fails, the pipeline raises before COMMIT takes effect and the transaction stays
    open in SQLAlchemy's eyes, so the caller's rollback cleans the connection as usual.
    """
    if conn.dialect.name == "postgresql":
        raw = _driver(conn)
        with as_sqlalchemy_errors(conn, "write and commit"), raw.pipeline():
            write_all(conn, writes)
            raw.commit()
    else:
        write_all(conn, writes)
    conn.commit()  # SQLAlchemy's bookkeeping; on PostgreSQL the driver is already idle


def execute_and_commit(conn: Connection, statement: UpdateBase) -> list[tuple[Any, ...]]:
    """Run one statement in its own transaction and commit; return its rows (RETURNING).

    On PostgreSQL the statement and COMMIT travel in one round trip (pipeline mode), for the
    small writes that would otherwise cost two on every request. Rows come back as the driver
    gives them (no result type processing): keep RETURNING to plain columns.
    """
    if conn.in_transaction():
        raise RuntimeError("execute_and_commit runs its own transaction")
    if conn.dialect.name != "postgresql":
        with conn.begin():
            result = conn.execute(statement)
            return [tuple(r) for r in result] if result.returns_rows else []
    raw = _driver(conn)
    sql, params = _compiled(conn, statement)
    with as_sqlalchemy_errors(conn, sql):
        try:
            with raw.pipeline():
                cursor = raw.cursor()
                cursor.execute(sql, params)
                raw.commit()
        except BaseException:
            raw.rollback()
            raise
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []


Query = tuple[ClauseElement, Mapping[str, Any]]


def fetch_in_one_trip(conn: Connection, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]]:
    """Run each (statement, values) in order inside the caller's transaction; each one's rows.

    The statements are constants with named bind parameters (`bindparam("customer_id")`),
    compiled once per dialect; `values` fill them. On PostgreSQL the statements are sent
    together (pipeline mode) and cost one round trip, where SQLAlchemy would wait for each. The
    server still runs them one after the other, each with its own snapshot: a lock taken by one
    is held before the next reads. Rows are the driver's (no result type processing): select
    plain columns and convert in the caller.
    """
    if conn.dialect.name != "postgresql":
        return [[tuple(r) for r in conn.execute(s, dict(v))] for s, v in queries]  # type: ignore[call-overload]
    raw = _driver(conn)
    compiled = [_compiled_constant(conn, s, v) for s, v in queries]
    with as_sqlalchemy_errors(conn, compiled[0][0] if compiled else ""):
        with raw.pipeline():
            cursors = []
            for sql, params in compiled:
                cursor = raw.cursor()
                cursor.execute(sql, params)
                cursors.append(cursor)
        return [[tuple(r) for r in c.fetchall()] if c.description else [] for c in cursors]


def _compiled_constant(
    conn: Connection, statement: ClauseElement, values: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """A constant statement's SQL (compiled once per dialect) and its bound `values`."""
    key = (conn.dialect.name, id(statement))
    found = _CONSTANTS.get(key)
    if found is None or found[0] is not statement:
        found = _CONSTANTS[key] = (statement, _compile(conn, statement))
    compiled = found[1]
    return compiled.bind(compiled.compiler.construct_params(params=dict(values)))


# The statement is kept with its compiled form, so its id cannot be reused by another object.
_CONSTANTS: dict[tuple[str, int], tuple[ClauseElement, _Compiled]] = {}


def _compiled(conn: Connection, statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """The SQL text and driver parameters of `statement`, bound as SQLAlchemy would bind them.

    Compiling costs far more than running a small statement, so compiled forms are cached by
    the statement's cache key (its shape; literal values are parameters), as
    `Connection.execute` caches them.
    """
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # not cacheable: compile this once
        compiled = _compile(conn, statement)
        return compiled.bind(compiled.compiler.construct_params())
    key = (conn.dialect.name, cache_key.key)
    cached = _COMPILED.get(key)
    if cached is None:
        cached = _compile(conn, statement, cache_key)
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = cached
    params = cached.compiler.construct_params(extracted_parameters=cache_key.bindparams)
    return cached.bind(params)


_COMPILED: dict[tuple[str, Any], _Compiled] = {}
_COMPILED_MAX = 500


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement compiled for one dialect, with its parameters' bind processors."""

    compiler: SQLCompiler
    processors: dict[str, Any]

    def bind(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The SQL and the driver's parameters, processed as SQLAlchemy would."""
        bound = dict(params)
        for name, process in self.processors.items():
            if name in bound:
                bound[name] = process(bound[name])
        return self.compiler.string, bound


def _compile(conn: Connection, statement: ClauseElement, cache_key: Any = None) -> _Compiled:
    compiler = conn.dialect.statement_compiler(conn.dialect, statement, cache_key=cache_key)
    processors = {
        name: process
        for name, bind in compiler.binds.items()
        if (process := bind.type.bind_processor(conn.dialect)) is not None
    }
    return _Compiled(compiler, processors)


def _write_with_executemany(conn: Connection, w: StagedWrite) -> None:
    if w.key is None:
        conn.execute(insert(w.table), w.rows)
        return
    values = [{("b_" + k if k == w.key else k): v for k, v in row.items()} for row in w.rows]
    conn.execute(update(w.table).where(w.table.c[w.key] == bindparam("b_" + w.key)), values)


def _driver(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def _raw_execute(conn: Connection, sql: str, params: list[str]) -> None:
    with as_sqlalchemy_errors(conn, sql), _driver(conn).cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def as_sqlalchemy_errors(conn: Connection, statement: str) -> Iterator[None]:
    """Raise driver errors as SQLAlchemy's (IntegrityError, ...), as `Connection.execute` would."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi_error) from exc


def _params(writes: Sequence[StagedWrite]) -> list[str]:
    """One JSON document per write. No per-value bind processing is needed on this path:
    amounts are Python ints (JSON keeps them exact), JSON columns nest as they are, and times
    are aware datetimes written in ISO form."""
    return [json.dumps(w.rows, default=_json_scalar, separators=(",", ":")) for w in writes]


def _json_scalar(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; use UTC")
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} through a JSON recordset")


def _statement(shape: tuple[Table, tuple[str, ...], str | None]) -> str:
    table, columns, key = shape
    rows = f"json_populate_recordset(NULL::{table.name}, %s::json)"
    if key is None:
        names = ", ".join(columns)
        return f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {rows}"
    assignments = ", ".join(f"{c} = v.{c}" for c in columns if c != key)
    return f"UPDATE {table.name} AS t SET {assignments} FROM {rows} AS v WHERE t.{key} = v.{key}"


@lru_cache(maxsize=512)
def _cte_sql(shapes: tuple[tuple[Table, tuple[str, ...], str | None], ...]) -> str:
    if len(shapes) == 1:
        return _statement(shapes[0])
    parts = ", ".join(f"w{i} AS ({_statement(s)})" for i, s in enumerate(shapes))
    return f"WITH {parts} SELECT 1"
