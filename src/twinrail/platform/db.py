"""Engines for the embedded default (SQLite in WAL mode) and for PostgreSQL, configured alike.

SQLite allows one writer at a time; a write transaction begins with BEGIN IMMEDIATE so that
writers queue on the busy timeout instead of failing half-way with SQLITE_BUSY. Read-only work
opts out with `READ_ONLY` execution options and runs beside the writer (WAL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from twinrail.platform.types import SqliteAmountSum

__all__ = ["metadata", "create_db_engine", "READ_ONLY", "normalise_url", "statement_reader"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

READ_ONLY = {"twinrail_read_only": True}


def statement_reader(engine: Engine) -> Connection:
    """A connection for ONE read statement, with no transaction around it on PostgreSQL.

    A read in a transaction costs a round trip for the query and another for the ROLLBACK that
    returns the connection to the pool; a single statement is consistent on its own. Several
    statements that must agree need a transaction: use `READ_ONLY` for those.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn.execution_options(**READ_ONLY)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for `postgresql://` URLs."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with the house settings for its dialect."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **kwargs)
    # As many pooled connections as the API runs request threads (plus the ledger's committers):
    # a connection opened beyond the pool is closed on return, and reconnecting costs a fork.
    kwargs.setdefault("pool_size", 24)
    kwargs.setdefault("max_overflow", 8)
    # No pre-ping: it would add a round trip to every unit of work; recycle stale ones instead.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, database: str | None, **kwargs: Any) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    if not database or database == ":memory:":
        kwargs.setdefault("poolclass", NullPool)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        dbapi_connection.create_aggregate("amount_sum", 1, SqliteAmountSum)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # durable commits, as on PostgreSQL
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get("twinrail_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
