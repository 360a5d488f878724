"""The outbox consumer that turns each client event into one delivery per subscribed endpoint.

It runs through `handle_once`, so the deliveries and the consumer's (consumer, event_id) claim
commit together: a redelivered event creates nothing more. Only the endpoints of the client the
event names are considered; an event that names no client creates nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from twinrail.notify.domain.model import Delivery, DeliveryState, endpoint_wants, event_for
from twinrail.notify.store.notify_store import NotifyStore, new_id
from twinrail.platform.bus import Bus, Subscription
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.consumers import handle_once
from twinrail.platform.outbox import OutboxMessage

__all__ = ["WebhookFanout", "FANOUT_CONSUMER", "FANOUT_PATTERN"]

FANOUT_CONSUMER = "notify.webhook_fanout"
FANOUT_PATTERN = "pipeline.>"  # the only events that name a client today


class WebhookFanout:
    """Creates deliveries from outbox events, exactly once per event."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine, self.clock = engine, clock

    def handle(self, message: OutboxMessage) -> bool:
        """Fan `message` out unless it was already: whether it ran now."""
        return handle_once(self.engine, FANOUT_CONSUMER, message, self._fan_out, clock=self.clock)

    def subscribe(self, bus: Bus) -> Subscription:
        """Attach to `bus` as the durable consumer `notify.webhook_fanout`."""

        def handler(message: OutboxMessage) -> None:
            self.handle(message)

        return bus.subscribe(FANOUT_PATTERN, handler, consumer=FANOUT_CONSUMER)

    def _fan_out(self, conn: Connection, message: OutboxMessage) -> None:
        event = event_for(message.event_id, message.topic, message.payload, message.occurred_at)
        if event is None:
            return
        store = NotifyStore(conn)
        now = self.clock()
        webhook_id = f"msg_{message.event_id.replace('-', '')}"
        store.add_deliveries(
            [
                Delivery(
                    id=new_id("whd"),
                    endpoint_id=endpoint.id,
                    client_id=event.client_id,
                    webhook_id=webhook_id,
                    event_type=event.event_type,
                    payload=event.body,
                    state=DeliveryState.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )  # fmt: skip
                for endpoint in store.endpoints_of_client(event.client_id)
                if endpoint_wants(endpoint, event.event_type)
            ]
        )
