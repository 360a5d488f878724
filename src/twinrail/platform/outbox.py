"""The transactional outbox: events are inserted in the same transaction as the change they report.

A relay later publishes unpublished rows to the bus and marks them. Publishing happens at least
once; each message carries the event id so that the bus (JetStream's `Nats-Msg-Id`) and the
consumers (their `processed_events` rows) can drop duplicates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    select,
    text,
    update,
)

from twinrail.platform.bulk import StagedWrite
from twinrail.platform.db import metadata
from twinrail.platform.events import DomainEvent
from twinrail.platform.types import BigId, UtcDateTime

__all__ = [
    "OutboxMessage",
    "outbox",
    "processed_events",
    "outbox_write",
    "fetch_unpublished",
    "mark_published",
    "message_from_event",
]


outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(100), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("correlation_id", String(100), nullable=True),
    Column("published_at", UtcDateTime, nullable=True),
    Index(
        "ix_outbox_unpublished",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

# Exactly-once effects for at-least-once delivery: a consumer inserts (consumer, event_id) in
# the same transaction as its effects; a redelivered event hits the primary key and is skipped.
processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One event as it travels on the bus."""

    event_id: str
    topic: str
    stream_id: str
    stream_version: int
    payload: dict[str, Any]
    occurred_at: dt.datetime
    correlation_id: str | None = None
    position: int | None = None  # the outbox row id, set when read back

    def envelope(self) -> dict[str, Any]:
        """The JSON body published to the bus."""
        return {
            "event_id": self.event_id,
            "topic": self.topic,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": self.correlation_id,
            "payload": self.payload,
        }

    @classmethod
    def from_envelope(cls, body: dict[str, Any]) -> OutboxMessage:
        return cls(
            event_id=body["event_id"],
            topic=body["topic"],
            stream_id=body["stream_id"],
            stream_version=body["stream_version"],
            payload=body["payload"],
            occurred_at=dt.datetime.fromisoformat(body["occurred_at"]),
            correlation_id=body.get("correlation_id"),
        )


def message_from_event(
    event: DomainEvent, occurred_at: dt.datetime, correlation_id: str | None
) -> OutboxMessage:
    return OutboxMessage(
        event_id=str(uuid.uuid4()),
        topic=event.topic,
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        payload=event.payload(),
        occurred_at=occurred_at,
        correlation_id=correlation_id,
    )


def outbox_write(messages: Sequence[OutboxMessage]) -> StagedWrite:
    """The rows that put `messages` in the outbox, for a unit of work to write at commit."""
    return StagedWrite(
        outbox,
        [
            {
                "event_id": m.event_id,
                "topic": m.topic,
                "stream_id": m.stream_id,
                "stream_version": m.stream_version,
                "payload": m.payload,
                "occurred_at": m.occurred_at,
                "correlation_id": m.correlation_id,
            }
            for m in messages
        ],
    )


def fetch_unpublished(conn: Connection, limit: int) -> list[OutboxMessage]:
    """The oldest unpublished messages, in insertion order."""
    rows = conn.execute(
        select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(limit)
    ).mappings()
    return [
        OutboxMessage(
            event_id=r["event_id"],
            topic=r["topic"],
            stream_id=r["stream_id"],
            stream_version=r["stream_version"],
            payload=r["payload"],
            occurred_at=r["occurred_at"],
            correlation_id=r["correlation_id"],
            position=r["id"],
        )
        for r in rows
    ]


def mark_published(conn: Connection, positions: Iterable[int], at: dt.datetime) -> None:
    ids = list(positions)
    if ids:
        conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(published_at=at))
