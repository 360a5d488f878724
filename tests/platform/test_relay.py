"""The outbox relay on the in-process bus: at-least-once publishing, exactly-once effects."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine

from tests.conftest import ManualClock
from tests.platform.builders import post_transfers
from tests.platform.conftest import EffectLog, outbox_event_ids, wait_until
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.bus import InProcessBus, PublishFailed, PublishReceipt
from twinrail.platform.consumers import idempotent
from twinrail.platform.lease import lease_for
from twinrail.platform.outbox import OutboxMessage
from twinrail.platform.relay import RELAY_LEASE, OutboxRelay, outbox_backlog


class SimulatedCrash(Exception):
    """The relay's process dies here."""


def crash_after_publish(_messages: Sequence[OutboxMessage], _receipts: Sequence[PublishReceipt]):
    raise SimulatedCrash


def test_the_relay_publishes_every_outbox_row_once_in_outbox_order(
    engine: Engine, ledger: LedgerService
):
    post_transfers(ledger, 5)
    bus, seen = InProcessBus(), []
    bus.subscribe(">", lambda m: seen.append(m.event_id), consumer="tap")
    relay = OutboxRelay(engine, bus, batch_size=4)
    while relay.relay_once():
        pass
    assert seen == outbox_event_ids(engine)
    assert outbox_event_ids(engine, unpublished_only=True) == []
    assert relay.relay_once() == 0
    relay.lease.release()


def test_a_relay_killed_between_publish_and_mark_takes_effect_once(
    engine: Engine, ledger: LedgerService, effects: EffectLog
):
    post_transfers(ledger, 3)
    expected = outbox_event_ids(engine)
    bus, deliveries = InProcessBus(), []
    bus.subscribe(">", lambda m: deliveries.append(m.event_id), consumer="tap")
    bus.subscribe(">", idempotent(engine, "projector", effects.effect("projector")), consumer="p")

    doomed = OutboxRelay(engine, bus, after_publish=crash_after_publish)
    with pytest.raises(SimulatedCrash):
        doomed.relay_once()
    doomed.lease.release()  # its process died: the OS or PostgreSQL frees the lease with it
    assert outbox_event_ids(engine, unpublished_only=True) == expected

    successor = OutboxRelay(engine, bus)
    assert successor.relay_once() == len(expected)
    successor.lease.release()
    assert deliveries == expected + expected  # at least once: the consumer saw duplicates
    assert effects.event_ids("projector") == expected  # exactly once in effect
    assert outbox_event_ids(engine, unpublished_only=True) == []


def test_a_failing_subscriber_keeps_its_message_for_the_next_round(
    engine: Engine, ledger: LedgerService
):
    post_transfers(ledger, 2)
    first, *rest = outbox_event_ids(engine)
    bus, seen, failing = InProcessBus(), [], {rest[0]}

    def handler(message: OutboxMessage) -> None:
        if message.event_id in failing:
            raise ConnectionError("downstream unavailable")
        seen.append(message.event_id)

    bus.subscribe(">", handler, consumer="flaky")
    relay = OutboxRelay(engine, bus)
    with pytest.raises(PublishFailed):
        relay.relay_once()
    assert outbox_event_ids(engine, unpublished_only=True) == rest  # what got through is marked
    failing.clear()
    assert relay.relay_once() == len(rest)
    relay.lease.release()
    assert seen == [first, *rest]


def test_run_forever_drains_the_outbox_until_stopped(engine: Engine, ledger: LedgerService):
    bus, seen = InProcessBus(), []
    bus.subscribe(">", lambda m: seen.append(m.event_id), consumer="tap")
    relay = OutboxRelay(engine, bus, batch_size=3)
    stop = threading.Event()
    worker = threading.Thread(target=relay.run_forever, args=(stop, 0.01))
    worker.start()
    try:
        post_transfers(ledger, 4)
        wait_until(lambda: len(seen) == len(outbox_event_ids(engine)))
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert seen == outbox_event_ids(engine)
    assert not relay.lease.held  # a stopped relay hands its lease on


def test_run_forever_survives_a_failing_bus_and_catches_up(engine: Engine, ledger: LedgerService):
    post_transfers(ledger, 1)
    bus, seen, outage = InProcessBus(), [], threading.Event()
    outage.set()

    def handler(message: OutboxMessage) -> None:
        if outage.is_set():
            raise ConnectionError("bus down")
        seen.append(message.event_id)

    bus.subscribe(">", handler, consumer="tap")
    relay = OutboxRelay(engine, bus)
    stop = threading.Event()
    worker = threading.Thread(target=relay.run_forever, args=(stop, 0.01))
    worker.start()
    try:
        wait_until(lambda: relay.lease.held)
        outage.clear()
        wait_until(lambda: seen == outbox_event_ids(engine))
    finally:
        stop.set()
        worker.join(timeout=10)


def test_two_relays_side_by_side_never_both_publish(engine: Engine, ledger: LedgerService):
    bus, deliveries = InProcessBus(), []
    # The in-process bus delivers in the publishing relay's own thread, so the tap knows which
    # relay published each message.
    bus.subscribe(
        ">",
        lambda m: deliveries.append((m.event_id, threading.current_thread().name)),
        consumer="tap",
    )
    relays = [
        OutboxRelay(engine, bus, batch_size=2, lease=lease_for(engine, RELAY_LEASE))
        for _ in range(2)
    ]
    stop = threading.Event()
    workers = [
        threading.Thread(target=r.run_forever, args=(stop, 0.005), name=f"relay-{i}")
        for i, r in enumerate(relays)
    ]
    for worker in workers:
        worker.start()
    try:
        post_transfers(ledger, 6)
        wait_until(lambda: len(deliveries) >= len(outbox_event_ids(engine)))
        assert sum(r.lease.held for r in relays) == 1
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    assert [event_id for event_id, _ in deliveries] == outbox_event_ids(engine)
    assert len({relay for _, relay in deliveries}) == 1


def test_a_standby_relay_takes_over_when_the_leader_stops(engine: Engine, ledger: LedgerService):
    bus, seen = InProcessBus(), []
    bus.subscribe(">", lambda m: seen.append(m.event_id), consumer="tap")
    leader = OutboxRelay(engine, bus, lease=lease_for(engine, RELAY_LEASE))
    standby = OutboxRelay(engine, bus, lease=lease_for(engine, RELAY_LEASE))
    post_transfers(ledger, 1)
    published = leader.relay_once()
    assert published > 0
    post_transfers(ledger, 1)
    assert standby.relay_once() == 0  # the leader holds the lease
    leader.lease.release()
    assert standby.relay_once() > 0
    standby.lease.release()
    assert seen == outbox_event_ids(engine)


def test_the_backlog_counts_unpublished_rows_and_ages_the_oldest(
    engine: Engine, ledger: LedgerService, clock: ManualClock
):
    assert outbox_backlog(engine, clock).as_dict() == {
        "unpublished": 0,
        "oldest_age_seconds": None,
    }
    post_transfers(ledger, 2)
    clock.advance(seconds=90)
    backlog = outbox_backlog(engine, clock)
    assert backlog.unpublished == len(outbox_event_ids(engine))
    assert backlog.oldest_age_seconds == 90.0
    relay = OutboxRelay(engine, InProcessBus(), clock=clock)
    relay.relay_once()
    relay.lease.release()
    assert outbox_backlog(engine, clock).unpublished == 0
