"""Idempotency keys, enforced by the database's primary key on (client, key).

`claim` inserts the key as in progress (INSERT .. ON CONFLICT DO NOTHING); whoever inserts it
runs the request, and `complete` stores the response for replay. A key whose first request is
still running answers IdempotencyKeyInFlight; the claim is a lease (`locked_until`) so that a
request that died mid-way frees its key instead of blocking it for 24 hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from twinrail.api.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from twinrail.api.store.tables import idempotency_keys as keys
from twinrail.platform.bulk import execute_and_commit
from twinrail.platform.clock import Clock, utc_now

__all__ = ["IdempotencyService", "StoredResponse"]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    content_type: str


class IdempotencyService:
    """Claims keys, stores responses, replays them, and forgets them after `ttl`."""

    def __init__(
        self,
        engine: Engine,
        *,
        ttl: dt.timedelta = dt.timedelta(hours=24),
        lease: dt.timedelta = dt.timedelta(seconds=60),
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.lease = lease
        self.clock = clock

    def claim(self, client_id: str, key: str, request_hash: str) -> StoredResponse | None:
        """None if the caller now owns the key and must run the request; else the stored reply.

        Raises IdempotencyKeyReused for a different request under the key, and
        IdempotencyKeyInFlight while the first request still runs.
        """
        now = self.clock()
        values = {
            "client_id": client_id,
            "key": key,
            "request_hash": request_hash,
            "state": "in_progress",
            "created_at": now,
            "locked_until": now + self.lease,
            "expires_at": now + self.ttl,
        }
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(keys).values(**values).on_conflict_do_nothing()
        with self.engine.connect() as conn:  # the usual case, a new key: one round trip
            if execute_and_commit(conn, insert.returning(keys.c.key)):
                return None  # rowcount is not reliable for ON CONFLICT on every driver
        with self.engine.begin() as conn:
            where = and_(keys.c.client_id == client_id, keys.c.key == key)
            row = conn.execute(select(keys).where(where).with_for_update()).mappings().one()
            stale = row["expires_at"] <= now or (
                row["state"] == "in_progress" and row["locked_until"] <= now
            )
            if stale:
                conn.execute(update(keys).where(where).values(**values))
                return None
            if row["request_hash"] != request_hash:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was used for a different request", key=key
                )
            if row["state"] == "in_progress":
                raise IdempotencyKeyInFlight(
                    "a request with this Idempotency-Key is still being processed", key=key
                )
            return StoredResponse(
                row["status_code"], row["response_body"].encode(), row["content_type"]
            )

    def complete(self, client_id: str, key: str, response: StoredResponse) -> None:
        """Store the response the key's request produced, for replay until the key expires."""
        with self.engine.connect() as conn:
            execute_and_commit(
                conn,
                update(keys)
                .where(and_(keys.c.client_id == client_id, keys.c.key == key))
                .values(
                    state="completed",
                    status_code=response.status_code,
                    response_body=response.body.decode(),
                    content_type=response.content_type,
                ),
            )

    def release(self, client_id: str, key: str) -> None:
        """Forget a claim whose request failed without a definite answer, so it can be retried."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(keys).where(
                    and_(
                        keys.c.client_id == client_id,
                        keys.c.key == key,
                        keys.c.state == "in_progress",
                    )
                )
            )

    def purge_expired(self) -> int:
        """Delete keys past their 24 hours; returns how many (for the worker's loop)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(keys).where(keys.c.expires_at <= self.clock())).rowcount
