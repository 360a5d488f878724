"""Leases for singleton loops (outbox relay, saga runner, ...): one holder per name at a time.

A lease is held for as long as the holder leads, and is freed when it is released or when the
holder dies: PostgreSQL drops a session-level advisory lock when its connection ends, and the
operating system drops a file lock when the process that held it exits, even under SIGKILL.
Leadership is therefore never stranded, but it is also not fencing: a holder that lost its
connection may still finish the batch it was working on. Loops that take a lease must stay
correct when two holders overlap for a moment (the outbox relay does: duplicates are dropped by
the bus and by consumers); the lease only keeps them from doing everything twice.
"""

from __future__ import annotations

import hashlib
import re
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Self

import filelock
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

__all__ = ["Lease", "AdvisoryLockLease", "FileLease", "LocalLease", "lease_for", "advisory_key"]


class Lease(ABC):
    """An exclusive, named lease; `try_acquire` never blocks."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def try_acquire(self) -> bool:
        """Take the lease if it is free, or confirm this holder still has it; True while leading."""

    @abstractmethod
    def release(self) -> None:
        """Give the lease up; a no-op when it is not held."""

    @property
    @abstractmethod
    def held(self) -> bool:
        """Whether this holder believes it leads (as of its last `try_acquire`)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def advisory_key(name: str) -> int:
    """The signed 64-bit key of `name` for `pg_try_advisory_lock`."""
    digest = hashlib.blake2b(f"twinrail:lease:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLockLease(Lease):
    """A PostgreSQL session advisory lock, held on a dedicated connection while leading."""

    def __init__(self, engine: Engine, name: str) -> None:
        super().__init__(name)
        self._engine = engine
        self._key = advisory_key(name)
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            if self._still_connected(self._conn):
                return True
            self._discard()
        # AUTOCOMMIT: the lock belongs to the session, and an idle open transaction would hold
        # back vacuum and trip idle_in_transaction_session_timeout.
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar()
            )
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        except DBAPIError:
            # Never return a connection that may still hold the lock to the pool: invalidating
            # it ends the session, and PostgreSQL frees the lock with it.
            conn.invalidate()
        finally:
            conn.close()

    @staticmethod
    def _still_connected(conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.invalidate()
            conn.close()


class FileLease(Lease):
    """An OS file lock (flock) on `<database>.<name>.lease` beside the SQLite file."""

    def __init__(self, database: str | Path, name: str) -> None:
        super().__init__(name)
        database = Path(database)
        self.path = database.with_name(f"{database.name}.{_file_safe(name)}.lease")
        # thread_local=False: a loop may acquire on one thread and release on another.
        self._lock = filelock.FileLock(self.path, thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def try_acquire(self) -> bool:
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


class LocalLease(Lease):
    """A process-local lease, keyed by name: the fake, and the lease for in-memory SQLite."""

    _registry: dict[str, threading.Lock] = {}
    _registry_guard = threading.Lock()

    def __init__(self, name: str) -> None:
        super().__init__(name)
        with self._registry_guard:
            self._lock = self._registry.setdefault(name, threading.Lock())
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        if not self._held:
            self._held = self._lock.acquire(blocking=False)
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()


def lease_for(engine: Engine, name: str) -> Lease:
    """The lease that fits `engine`: an advisory lock on PostgreSQL, a file lock on SQLite."""
    backend = engine.dialect.name
    if backend == "postgresql":
        return AdvisoryLockLease(engine, name)
    database = engine.url.database
    if backend == "sqlite" and database and database != ":memory:":
        return FileLease(Path(database).resolve(), name)
    return LocalLease(f"{engine.url.render_as_string(hide_password=True)}#{name}")


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
