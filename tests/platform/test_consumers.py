"""Idempotent consumers: however often an event is delivered, its effect happens once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select

from tests.platform.builders import message
from tests.platform.conftest import EffectLog
from twinrail.platform.bus import InProcessBus
from twinrail.platform.consumers import handle_once, idempotent
from twinrail.platform.outbox import processed_events


def processed_count(engine: Engine, consumer: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).where(processed_events.c.consumer == consumer))


def test_an_event_takes_effect_once_however_often_it_is_delivered(
    engine: Engine, effects: EffectLog
):
    event = message()
    outcomes = [handle_once(engine, "mailer", event, effects.effect("mailer")) for _ in range(3)]
    assert outcomes == [True, False, False]
    assert effects.event_ids("mailer") == [event.event_id]


def test_each_consumer_processes_an_event_for_itself(engine: Engine, effects: EffectLog):
    event = message()
    assert handle_once(engine, "mailer", event, effects.effect("mailer"))
    assert handle_once(engine, "webhooks", event, effects.effect("webhooks"))
    assert effects.event_ids("mailer") == effects.event_ids("webhooks") == [event.event_id]


def test_a_failing_effect_leaves_the_event_to_be_processed_on_redelivery(
    engine: Engine, effects: EffectLog
):
    event = message()
    record = effects.effect("mailer")

    def record_then_fail(conn, received) -> None:
        record(conn, received)
        raise ConnectionError("mail server down")

    with pytest.raises(ConnectionError):
        handle_once(engine, "mailer", event, record_then_fail)
    assert effects.event_ids("mailer") == []
    assert processed_count(engine, "mailer") == 0
    assert handle_once(engine, "mailer", event, record)
    assert effects.event_ids("mailer") == [event.event_id]


def test_duplicate_deliveries_racing_each_other_take_effect_once(
    engine: Engine, effects: EffectLog
):
    event = message()
    start = threading.Barrier(6)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            outcomes.append(handle_once(engine, "racer", event, effects.effect("racer")))
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(outcomes) == [False] * 5 + [True]
    assert effects.event_ids("racer") == [event.event_id]


def test_an_idempotent_handler_makes_a_redelivering_bus_harmless(
    engine: Engine, effects: EffectLog
):
    bus = InProcessBus()
    bus.subscribe(">", idempotent(engine, "audit-feed", effects.effect("audit-feed")), consumer="x")
    first, second = message(), message()
    bus.publish([first, second])
    bus.publish([first, second])  # what a relay killed between publish and mark does
    assert effects.event_ids("audit-feed") == [first.event_id, second.event_id]
    assert processed_count(engine, "audit-feed") == 2
