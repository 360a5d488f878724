"""The outbox relay: publishes committed outbox rows to the bus, at least once, in outbox order.

A batch is read, published and only then marked, in a transaction of its own. A relay that dies
between publish and mark leaves the rows unpublished; its successor publishes them again with
the same event ids, which JetStream acknowledges as duplicates (within its duplicate window) and
consumers skip (`consumers.handle_once`). Nothing is lost, and nothing takes effect twice.

Rows are picked by `published_at IS NULL`, not by a high-water mark on the id: on PostgreSQL a
transaction may commit a lower id after a higher one was published, and it must not be skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from twinrail.platform.bus import Bus, PublishFailed, PublishReceipt
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.lease import Lease, lease_for
from twinrail.platform.outbox import OutboxMessage, fetch_unpublished, mark_published, outbox
from twinrail.platform.telemetry import tracer

__all__ = ["OutboxRelay", "OutboxBacklog", "AfterPublish", "RELAY_LEASE", "outbox_backlog"]

log = logging.getLogger(__name__)
_tracer = tracer(__name__)

RELAY_LEASE = "outbox-relay"
_MAX_BACKOFF = 30.0

AfterPublish = Callable[[Sequence[OutboxMessage], Sequence[PublishReceipt]], None]


class OutboxRelay:
    """Moves outbox rows to `bus` while it holds the relay lease (one relay at a time).

    `after_publish` is a fault-injection seam for tests: it runs after the bus acknowledged a
    batch and before the batch is marked published.
    """

    def __init__(
        self,
        engine: Engine,
        bus: Bus,
        batch_size: int = 500,
        *,
        lease: Lease | None = None,
        clock: Clock = utc_now,
        after_publish: AfterPublish | None = None,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.batch_size = batch_size
        self.lease = lease if lease is not None else lease_for(engine, RELAY_LEASE)
        self.clock = clock
        self.after_publish = after_publish
        self.duplicates = 0  # republished messages the bus already had, since start

    def relay_once(self) -> int:
        """Publish and mark one batch if this relay leads; how many messages it published."""
        if not self.lease.try_acquire():
            return 0
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            messages = fetch_unpublished(conn, self.batch_size)
        if not messages:
            return 0
        with _tracer.start_as_current_span(
            "outbox.relay", attributes={"twinrail.outbox.messages": len(messages)}
        ):
            try:
                receipts = self.bus.publish(messages)
            except PublishFailed as exc:
                # Keep what the bus took, so that a failing subscriber or a lost ack does not
                # make the whole batch go round again.
                self._mark(messages, {r.event_id for r in exc.acknowledged})
                raise
            if self.after_publish is not None:
                self.after_publish(messages, receipts)
            self._mark(messages, {r.event_id for r in receipts})
        self.duplicates += sum(r.duplicate for r in receipts)
        return len(messages)

    def run_forever(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Relay until `stop` is set: a full batch goes on at once, else wait `interval`."""
        failures = 0
        try:
            while not stop.is_set():
                try:
                    published = self.relay_once()
                    failures = 0
                except Exception:
                    # A database or bus outage must not end the loop; back off and try again.
                    failures += 1
                    log.exception("outbox relay failed (%d in a row)", failures)
                    stop.wait(min(interval * 2**failures, _MAX_BACKOFF))
                    continue
                if published < self.batch_size:
                    stop.wait(interval)
        finally:
            self.lease.release()

    def _mark(self, messages: Sequence[OutboxMessage], event_ids: set[str]) -> None:
        positions = [
            m.position for m in messages if m.event_id in event_ids and m.position is not None
        ]
        if positions:
            with self.engine.begin() as conn:
                mark_published(conn, positions, self.clock())


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """What the relay has yet to publish: how many rows, and how old the oldest is."""

    unpublished: int
    oldest_age_seconds: float | None

    def as_dict(self) -> dict[str, int | float | None]:
        return {"unpublished": self.unpublished, "oldest_age_seconds": self.oldest_age_seconds}


def outbox_backlog(engine: Engine, clock: Clock = utc_now) -> OutboxBacklog:
    """Count unpublished outbox rows and measure the age of the oldest."""
    query = select(func.count(), func.min(outbox.c.occurred_at)).where(
        outbox.c.published_at.is_(None)
    )
    with engine.connect().execution_options(**READ_ONLY) as conn:
        count, oldest = conn.execute(query).one()
    if oldest is None:
        return OutboxBacklog(int(count), None)
    return OutboxBacklog(int(count), max(0.0, (clock() - oldest).total_seconds()))
