"""Which database errors mean "try the whole unit of work again", and how often.

PostgreSQL reports lost races as serialization failures (40001), deadlocks (40P01) or unique
violations on the event store's (stream, version) or a transfer id; SQLite as "database is
locked" when the busy timeout runs out. Each is safe to retry because the unit of work rolled
back completely; on the retry, an id that another writer committed meanwhile is seen and
answered as a replay or a conflict.
"""

from __future__ import annotations

import random
import time

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

__all__ = ["MAX_ATTEMPTS", "is_retryable", "backoff"]

MAX_ATTEMPTS = 6
_RETRYABLE_PGCODES = {"40001", "40P01"}


def is_retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return _pgcode(exc) == "23505" or "UNIQUE constraint failed" in str(exc)
    code = _pgcode(exc)
    if code in _RETRYABLE_PGCODES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def backoff(attempt: int) -> None:
    """Sleep with full jitter: up to 2 ms, 4 ms, 8 ms ... before the next attempt."""
    time.sleep(random.uniform(0, 0.002 * 2**attempt))


def _pgcode(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)
