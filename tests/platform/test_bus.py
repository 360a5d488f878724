"""The bus port: the in-process bus and JetStream pass the same contract tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.platform.builders import message
from tests.platform.conftest import unique_stream, wait_until
from twinrail.platform.bus import (
    Bus,
    BusError,
    InProcessBus,
    JetStreamBus,
    PublishFailed,
    bus_from_url,
    topic_matches,
)
from twinrail.platform.outbox import OutboxMessage


class Inbox:
    """A thread-safe list of what a subscriber received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[OutboxMessage] = []

    def __call__(self, received: OutboxMessage) -> None:
        with self._lock:
            self.messages.append(received)

    def event_ids(self) -> list[str]:
        with self._lock:
            return [m.event_id for m in self.messages]


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("ledger.transfer_posted", "ledger.transfer_posted", True),
        ("ledger.*", "ledger.transfer_posted", True),
        ("ledger.>", "ledger.transfer_posted", True),
        (">", "ledger.transfer_posted", True),
        ("*", "ledger.transfer_posted", False),
        ("ledger.*", "ledger", False),
        ("ledger.>", "ledger", False),
        ("ledger.hold_placed", "ledger.transfer_posted", False),
        ("*.transfer_posted", "ledger.transfer_posted", True),
        ("ledger.transfer_posted.x", "ledger.transfer_posted", False),
    ],
)
def test_topic_patterns_follow_nats_wildcards(pattern: str, topic: str, expected: bool):
    assert topic_matches(pattern, topic) is expected


@pytest.fixture(params=["inproc", pytest.param("jetstream", marks=pytest.mark.nats)])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    """Each bus implementation, for the contract tests."""
    if request.param == "inproc":
        with InProcessBus() as local:
            yield local
    else:
        yield request.getfixturevalue("jetstream")


def test_a_subscriber_receives_the_messages_whose_topic_matches_its_pattern(bus: Bus):
    ledger_inbox, holds_inbox = Inbox(), Inbox()
    bus.subscribe("ledger.>", ledger_inbox, consumer="all-ledger")
    bus.subscribe("ledger.hold_placed", holds_inbox, consumer="holds")
    posted, hold = message("ledger.transfer_posted", n=1), message("ledger.hold_placed", n=2)
    bus.publish([posted, hold])
    wait_until(lambda: len(ledger_inbox.event_ids()) == 2 and len(holds_inbox.event_ids()) == 1)
    assert ledger_inbox.messages == [posted, hold]  # the whole envelope survives the trip
    assert holds_inbox.event_ids() == [hold.event_id]


def test_messages_arrive_in_publish_order(bus: Bus):
    inbox = Inbox()
    bus.subscribe(">", inbox, consumer="ordered")
    sent = [message(n=n) for n in range(20)]
    bus.publish(sent[:7])
    bus.publish(sent[7:])
    wait_until(lambda: len(inbox.event_ids()) == 20)
    assert inbox.event_ids() == [m.event_id for m in sent]


def test_every_published_message_is_acknowledged_with_a_receipt(bus: Bus):
    sent = [message(n=n) for n in range(3)]
    receipts = bus.publish(sent)
    assert [r.event_id for r in receipts] == [m.event_id for m in sent]
    assert not any(r.duplicate for r in receipts)
    assert bus.publish([]) == []


def test_a_closed_subscription_receives_nothing_more(bus: Bus):
    inbox = Inbox()
    subscription = bus.subscribe(">", inbox, consumer="leaving")
    first = message()
    bus.publish([first])
    wait_until(lambda: inbox.event_ids() == [first.event_id])
    subscription.close()
    bus.publish([message()])
    time.sleep(0.3)  # longer than a JetStream poll: a live subscription would have had it
    assert inbox.event_ids() == [first.event_id]


def test_a_failing_local_subscriber_fails_the_publish_and_reports_what_was_delivered():
    bus = InProcessBus()
    delivered = Inbox()
    poison = message(poison=True)

    def picky(received: OutboxMessage) -> None:
        if received.payload.get("poison"):
            raise ValueError("cannot handle this one")
        delivered(received)

    bus.subscribe(">", picky, consumer="picky")
    good = message()
    with pytest.raises(PublishFailed) as caught:
        bus.publish([good, poison, message()])
    assert [r.event_id for r in caught.value.acknowledged] == [good.event_id]
    assert delivered.event_ids() == [good.event_id]


def test_a_closed_local_bus_refuses_to_publish():
    bus = InProcessBus()
    bus.close()
    with pytest.raises(BusError):
        bus.publish([message()])


@pytest.mark.nats
def test_jetstream_acknowledges_a_republished_event_as_duplicate_and_stores_it_once(
    jetstream: JetStreamBus,
):
    sent = [message(n=n) for n in range(3)]
    first = jetstream.publish(sent)
    again = jetstream.publish(sent)
    assert not any(r.duplicate for r in first)
    assert all(r.duplicate for r in again)
    assert [r.sequence for r in again] == [r.sequence for r in first]
    assert jetstream.message_count() == 3


@pytest.mark.nats
def test_a_durable_consumer_resumes_where_it_left_off(jetstream: JetStreamBus):
    sent = [message(n=n) for n in range(5)]
    jetstream.publish(sent)
    inbox = Inbox()
    first = jetstream.pull_consumer("resumer")
    assert first.process(inbox, batch=2) == 2
    first.close()
    again = jetstream.pull_consumer("resumer")
    while again.process(inbox, batch=10, wait=0.2):
        pass
    assert inbox.event_ids() == [m.event_id for m in sent]


@pytest.mark.nats
def test_a_message_whose_handler_fails_is_delivered_again(jetstream: JetStreamBus):
    sent = [message(n=n) for n in range(3)]
    jetstream.publish(sent)
    inbox, failures = Inbox(), []

    def flaky(received: OutboxMessage) -> None:
        if received.payload["n"] == 1 and not failures:
            failures.append(received.event_id)
            raise ConnectionError("downstream hiccup")
        inbox(received)

    consumer = jetstream.pull_consumer("flaky", redelivery_delay=0.05)
    with pytest.raises(ConnectionError):
        consumer.process(flaky, batch=10)
    wait_until(
        lambda: consumer.process(flaky, batch=10, wait=0.2) == 0 and len(inbox.messages) == 3
    )
    assert inbox.event_ids() == [m.event_id for m in sent]


def test_bus_from_url_picks_the_bus_by_scheme():
    with bus_from_url("inproc://") as local:
        assert isinstance(local, InProcessBus)
    with pytest.raises(ValueError, match="unsupported bus URL"):
        bus_from_url("kafka://localhost:9092")


@pytest.mark.nats
def test_bus_from_url_connects_to_jetstream_for_nats_urls(nats_url: str):
    stream, prefix = unique_stream()
    bus = bus_from_url(nats_url, stream, subject_prefix=prefix)
    try:
        assert isinstance(bus, JetStreamBus)
        assert bus.message_count() == 0
    finally:
        bus.delete_stream()
        bus.close()


def test_an_unreachable_nats_server_is_a_bus_error():
    with pytest.raises(BusError, match="cannot reach NATS"):
        JetStreamBus("nats://127.0.0.1:1", "UNREACHABLE", timeout=1.0)


@pytest.mark.nats
def test_a_message_that_is_not_an_outbox_envelope_is_dropped_not_retried(
    jetstream: JetStreamBus,
):
    raw = jetstream._js.publish(jetstream.subject("ledger.transfer_posted"), b"not json")
    jetstream._runner.run(raw, jetstream.timeout)  # what a foreign publisher might send
    good = message()
    jetstream.publish([good])
    inbox = Inbox()
    consumer = jetstream.pull_consumer("strict", redelivery_delay=0.05)
    assert consumer.process(inbox, batch=10) == 2
    assert consumer.process(inbox, batch=10, wait=0.3) == 0
    assert inbox.event_ids() == [good.event_id]
