"""The fan-out as a durable JetStream consumer: a message published twice makes one delivery."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, func, select

from tests.conftest import NATS_URL, require_service
from twinrail.notify.service.endpoints import WebhookEndpointService
from twinrail.notify.service.fanout import WebhookFanout
from twinrail.notify.store.tables import deliveries
from twinrail.platform.bus import JetStreamBus

from .conftest import ledger_event, order_event, wait_for


def test_jetstream_redelivery_makes_one_delivery_per_event(
    engine: Engine, endpoints: WebhookEndpointService, fanout: WebhookFanout
) -> None:
    require_service(NATS_URL, "NATS")
    token = uuid.uuid4().hex[:12]
    bus = JetStreamBus(
        NATS_URL, f"TWINRAIL_TEST_{token}", subject_prefix=f"twinrail-test-{token}", poll_wait=0.2
    )
    try:
        endpoints.create("cli_a", "http://127.0.0.1:9/hooks", ["*"])
        message, marker = order_event("cli_a"), order_event("cli_a")
        # The event was handled once already (a redelivery after a lost ack looks the same to
        # the consumer: the same event id again); handle_once must skip it.
        fanout.handle(message)
        subscription = fanout.subscribe(bus)
        bus.publish([message, ledger_event(), marker])

        def count() -> int:
            with engine.connect() as conn:
                return int(conn.scalar(select(func.count()).select_from(deliveries)) or 0)

        wait_for(lambda: count() >= 2)  # the marker arrived, so everything before it did too
        subscription.close()
        assert count() == 2
    finally:
        try:
            bus.delete_stream()
        finally:
            bus.close()
