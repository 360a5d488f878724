"""Idempotent consumers: at-least-once delivery, exactly-once effects.

A consumer records (consumer, event_id) in `processed_events` in the same transaction as the
effect of the event. A redelivered event finds its row and the effect is skipped; an effect that
fails rolls the row back with it, so the event is processed on its next delivery.

The claim is `INSERT ... ON CONFLICT DO NOTHING`: on PostgreSQL a failed INSERT would abort the
whole transaction, and two deliveries racing each other wait on the row instead of both passing
a check-then-insert.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from twinrail.platform.bus import Handler
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.outbox import OutboxMessage, processed_events

__all__ = ["Effect", "handle_once", "idempotent", "claim_event"]

Effect = Callable[[Connection, OutboxMessage], None]


def handle_once(
    engine: Engine,
    consumer: str,
    message: OutboxMessage,
    effect: Effect,
    *,
    clock: Clock = utc_now,
) -> bool:
    """Run `effect` in one transaction with the claim, unless `consumer` did already: ran now?"""
    with engine.begin() as conn:
        if not claim_event(conn, consumer, message.event_id, clock):
            return False
        effect(conn, message)
    return True


def idempotent(engine: Engine, consumer: str, effect: Effect) -> Handler:
    """A bus handler that applies `effect` once per event for `consumer`."""

    def handler(message: OutboxMessage) -> None:
        handle_once(engine, consumer, message, effect)

    return handler


def claim_event(conn: Connection, consumer: str, event_id: str, clock: Clock = utc_now) -> bool:
    """Record in the caller's transaction that `consumer` processes `event_id`; False if it had."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # RETURNING tells a claim from a conflict; an INSERT's rowcount is not reliably reported.
    stmt = (
        insert(processed_events)
        .values(consumer=consumer, event_id=event_id, processed_at=clock())
        .on_conflict_do_nothing()
        .returning(processed_events.c.event_id)
    )
    return conn.execute(stmt).first() is not None
