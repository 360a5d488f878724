"""The outbox relay on real NATS JetStream, including a relay process killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.platform.builders import post_transfers
from tests.platform.conftest import EffectLog, outbox_event_ids, wait_until
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.bus import JetStreamBus, PublishReceipt
from twinrail.platform.consumers import idempotent
from twinrail.platform.outbox import OutboxMessage
from twinrail.platform.relay import OutboxRelay

pytestmark = pytest.mark.nats

VICTIM = Path(__file__).with_name("relay_victim.py")


class SimulatedCrash(Exception):
    """The relay's process dies here."""


class ReceiptLog:
    """An `after_publish` hook that only listens: which messages the bus called duplicates."""

    def __init__(self) -> None:
        self.duplicates: list[bool] = []

    def __call__(self, _messages: Sequence[OutboxMessage], receipts: Sequence[PublishReceipt]):
        self.duplicates.extend(r.duplicate for r in receipts)


def consume_all(bus: JetStreamBus, engine: Engine, effects: EffectLog, name: str) -> list[str]:
    """Drain the stream through a durable consumer and an idempotent effect; ids delivered."""
    delivered: list[str] = []
    apply = idempotent(engine, name, effects.effect(name))

    def handler(message: OutboxMessage) -> None:
        delivered.append(message.event_id)
        apply(message)

    consumer = bus.pull_consumer(name)
    while consumer.process(handler, batch=100, wait=0.2):
        pass
    consumer.close()
    return delivered


def test_the_relay_delivers_each_event_to_a_subscriber_once(
    engine: Engine, ledger: LedgerService, jetstream: JetStreamBus, effects: EffectLog
):
    post_transfers(ledger, 4)
    expected = outbox_event_ids(engine)
    jetstream.subscribe(
        "ledger.>", idempotent(engine, "projector", effects.effect("projector")), consumer="proj"
    )
    relay = OutboxRelay(engine, jetstream, batch_size=3)
    while relay.relay_once():
        pass
    relay.lease.release()
    wait_until(lambda: len(effects.event_ids("projector")) == len(expected))
    assert effects.event_ids("projector") == expected
    assert jetstream.message_count() == len(expected)


def test_a_relay_killed_between_publish_and_mark_republishes_as_duplicates(
    engine: Engine, ledger: LedgerService, jetstream: JetStreamBus, effects: EffectLog
):
    post_transfers(ledger, 3)
    expected = outbox_event_ids(engine)

    def crash(_messages: Sequence[OutboxMessage], _receipts: Sequence[PublishReceipt]):
        raise SimulatedCrash

    doomed = OutboxRelay(engine, jetstream, after_publish=crash)
    with pytest.raises(SimulatedCrash):
        doomed.relay_once()
    doomed.lease.release()  # its process died: the OS or PostgreSQL frees the lease with it
    assert outbox_event_ids(engine, unpublished_only=True) == expected

    receipts = ReceiptLog()
    successor = OutboxRelay(engine, jetstream, after_publish=receipts)
    assert successor.relay_once() == len(expected)
    successor.lease.release()
    assert receipts.duplicates == [True] * len(expected)
    assert successor.duplicates == len(expected)
    assert jetstream.message_count() == len(expected)
    assert consume_all(jetstream, engine, effects, "projector") == expected
    assert effects.event_ids("projector") == expected


def test_a_relay_process_killed_with_sigkill_loses_nothing_and_stores_nothing_twice(
    engine: Engine,
    ledger: LedgerService,
    jetstream: JetStreamBus,
    effects: EffectLog,
    tmp_path: Path,
):
    post_transfers(ledger, 3)
    expected = outbox_event_ids(engine)
    marker, log = tmp_path / "published.json", tmp_path / "victim.log"
    database_url = engine.url.render_as_string(hide_password=False)
    args = [database_url, jetstream.url, jetstream.stream, jetstream.subject_prefix, marker]
    with log.open("w") as output:
        victim = subprocess.Popen(
            [sys.executable, str(VICTIM), *map(str, args)], stdout=output, stderr=output
        )
    try:
        wait_until(lambda: marker.exists() or victim.poll() is not None, timeout=30)
        assert victim.poll() is None, log.read_text()
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.wait(timeout=10) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert json.loads(marker.read_text()) == expected  # published and acknowledged ...
    assert outbox_event_ids(engine, unpublished_only=True) == expected  # ... but never marked
    assert jetstream.message_count() == len(expected)

    receipts = ReceiptLog()
    successor = OutboxRelay(engine, jetstream, after_publish=receipts)
    # The dead process's lease goes with it: the kernel drops its file lock, and PostgreSQL
    # ends its session as soon as it sees the connection close.
    wait_until(lambda: successor.relay_once() > 0)
    successor.lease.release()
    assert receipts.duplicates == [True] * len(expected)
    assert outbox_event_ids(engine, unpublished_only=True) == []
    assert jetstream.message_count() == len(expected)
    assert consume_all(jetstream, engine, effects, "projector") == expected
    assert effects.event_ids("projector") == expected
