"""Fixtures for the outbox, the buses, the relay and consumers: a JetStream stream per test,
a table that consumers write their effects to, and helpers to fill and read the outbox."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert, select

from tests.conftest import NATS_URL, require_service
from twinrail.platform.bus import JetStreamBus
from twinrail.platform.consumers import Effect
from twinrail.platform.outbox import outbox

_effects_metadata = MetaData()
consumer_effects = Table(
    "test_consumer_effects",
    _effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),  # not unique: a double effect must show
)


class EffectLog:
    """Where test consumers record what they did, in the consumer's own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def effect(self, consumer: str) -> Effect:
        def record(conn, message) -> None:
            conn.execute(
                insert(consumer_effects).values(consumer=consumer, event_id=message.event_id)
            )

        return record

    def event_ids(self, consumer: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.scalars(
                    select(consumer_effects.c.event_id)
                    .where(consumer_effects.c.consumer == consumer)
                    .order_by(consumer_effects.c.id)
                )
            )


@pytest.fixture
def effects(engine: Engine) -> EffectLog:
    _effects_metadata.create_all(engine)  # the engine fixture empties it between tests
    return EffectLog(engine)


@pytest.fixture
def nats_url() -> str:
    require_service(NATS_URL, "NATS")
    return NATS_URL


def unique_stream() -> tuple[str, str]:
    """A stream name and subject prefix of this test's own, so that runs never share a stream."""
    token = uuid.uuid4().hex[:12]
    return f"TWINRAIL_TEST_{token}", f"twinrail-test-{token}"


@pytest.fixture
def jetstream(nats_url: str) -> Iterator[JetStreamBus]:
    """A JetStream bus on a fresh stream, deleted afterwards."""
    stream, prefix = unique_stream()
    bus = JetStreamBus(nats_url, stream, subject_prefix=prefix, timeout=5.0, poll_wait=0.2)
    try:
        yield bus
    finally:
        try:
            bus.delete_stream()
        finally:
            bus.close()


def outbox_event_ids(engine: Engine, *, unpublished_only: bool = False) -> list[str]:
    """Event ids in the outbox, in outbox order."""
    query = select(outbox.c.event_id).order_by(outbox.c.id)
    if unpublished_only:
        query = query.where(outbox.c.published_at.is_(None))
    with engine.connect() as conn:
        return list(conn.scalars(query))


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(0.01)
