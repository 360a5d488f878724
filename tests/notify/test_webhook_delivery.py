"""Outbox events become signed deliveries to the owning client's endpoints, retried and replayed."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from standardwebhooks.webhooks import Webhook

from twinrail.notify.domain.model import DeliveryState
from twinrail.notify.service.endpoints import WebhookEndpointService
from twinrail.notify.service.fanout import WebhookFanout
from twinrail.notify.service.sender import WebhookSender
from twinrail.notify.store.tables import deliveries

from .conftest import Receiver, free_port, ledger_event, order_event, wait_for

Start = Callable[[Receiver], Receiver]


def _endpoint(endpoints: WebhookEndpointService, client: str, receiver: Receiver, *types: str):
    endpoint, secret = endpoints.create(client, receiver.url, types or ("*",))
    receiver.secrets.append(secret)
    return endpoint


def _drain(sender: WebhookSender) -> None:
    """Run passes until nothing is due (each pass takes at most the per-endpoint limit)."""
    while sender.run_once():
        pass


def _log(endpoints: WebhookEndpointService, endpoint_id: str):
    return endpoints.deliveries(endpoint_id, None, None, 100)


def test_an_order_event_reaches_the_clients_endpoint_signed_per_standard_webhooks(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    receiver = serve_receiver(Receiver())
    endpoint = _endpoint(endpoints, "cli_a", receiver, "payment_order.completed")
    message = order_event("cli_a", order_id="po_1")
    assert fanout.handle(message)
    assert make_sender().run_once() == 1
    [got] = receiver.received
    assert got.verified_with == [0]
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(got.headers)
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.json["type"] == "payment_order.completed"
    assert got.json["data"]["payment_order_id"] == "po_1"
    assert got.json["data"]["event_id"] == message.event_id
    [logged] = _log(endpoints, endpoint.id)
    assert logged.delivery.state is DeliveryState.SUCCEEDED
    assert [(a.number, a.status_code, a.error) for a in logged.attempts] == [(1, 204, None)]


def test_events_reach_only_the_owning_clients_subscribed_endpoints(
    engine: Engine,
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    mine, theirs, other_type = (serve_receiver(Receiver()) for _ in range(3))
    _endpoint(endpoints, "cli_a", mine, "payment_order.completed")
    _endpoint(endpoints, "cli_b", theirs, "*")
    _endpoint(endpoints, "cli_a", other_type, "payment_order.failed")
    fanout.handle(order_event("cli_a"))
    fanout.handle(ledger_event())  # belongs to no client: goes nowhere
    make_sender().run_once()
    assert len(mine.received) == 1
    assert theirs.received == [] and other_type.received == []
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(deliveries)) == 1


def test_a_redelivered_event_creates_no_second_delivery(
    engine: Engine, endpoints: WebhookEndpointService, fanout: WebhookFanout
) -> None:
    endpoints.create("cli_a", "http://127.0.0.1:9/hooks", ["*"])
    message = order_event("cli_a")
    assert fanout.handle(message) is True
    assert fanout.handle(message) is False
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(deliveries)) == 1


def test_a_500_is_retried_with_the_same_webhook_id_until_it_succeeds(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    receiver = serve_receiver(Receiver(status=500))
    endpoint = _endpoint(endpoints, "cli_a", receiver)
    fanout.handle(order_event("cli_a"))
    sender = make_sender()
    sender.run_once()
    sender.run_once()
    [logged] = _log(endpoints, endpoint.id)
    assert logged.delivery.state is DeliveryState.PENDING
    assert [a.status_code for a in logged.attempts] == [500, 500]
    assert logged.attempts[0].error == "HTTP 500"
    receiver.status = 200
    sender.run_once()
    [logged] = _log(endpoints, endpoint.id)
    assert logged.delivery.state is DeliveryState.SUCCEEDED
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(r.verified_with for r in receiver.received)


def test_a_receiver_that_is_down_is_retried_and_then_dead_lettered(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
) -> None:
    endpoint, _ = endpoints.create("cli_a", f"http://127.0.0.1:{free_port()}/hooks", ["*"])
    fanout.handle(order_event("cli_a"))
    sender = make_sender()
    for _ in range(6):
        sender.run_once()
    [logged] = _log(endpoints, endpoint.id)
    assert logged.delivery.state is DeliveryState.DEAD
    assert len(logged.attempts) == 4  # the first try and three retries
    assert all(a.status_code is None and a.error for a in logged.attempts)


def test_the_default_retries_spread_over_about_a_day_with_jitter() -> None:
    import random

    from twinrail.notify.domain.model import RetryPolicy

    policy, rng = RetryPolicy(), random.Random(7)
    delays = [policy.next_delay(n, rng) for n in range(1, len(policy.delays) + 2)]
    assert delays[-1] is None
    total = sum(d for d in delays if d is not None)
    assert 20 * 3600 < total < 34 * 3600
    assert all(0.8 * b <= d <= 1.2 * b for d, b in zip(delays, policy.delays, strict=False))


def test_a_receiver_that_comes_back_gets_the_retry(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    port = free_port()
    endpoint, secret = endpoints.create("cli_a", f"http://127.0.0.1:{port}/hooks", ["*"])
    fanout.handle(order_event("cli_a"))
    sender = make_sender()
    sender.run_once()
    receiver = serve_receiver(Receiver(secrets=[secret], port=port))
    sender.run_once()
    [logged] = _log(endpoints, endpoint.id)
    assert logged.delivery.state is DeliveryState.SUCCEEDED
    assert [a.status_code for a in logged.attempts] == [None, 204]
    assert len(receiver.verified()) == 1


def test_one_delivery_and_a_time_range_can_be_replayed(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    receiver = serve_receiver(Receiver())
    endpoint = _endpoint(endpoints, "cli_a", receiver)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    for _ in range(3):
        fanout.handle(order_event("cli_a"))
    sender = make_sender()
    _drain(sender)
    first = _log(endpoints, endpoint.id)[0].delivery
    [copy] = endpoints.replay(endpoint.id, "cli_a", delivery_id=first.id)
    assert copy.replay_of == first.id and copy.webhook_id == first.webhook_id
    _drain(sender)
    assert len(receiver.verified()) == 4
    assert receiver.received[-1].headers["webhook-id"] == first.webhook_id
    copies = endpoints.replay(endpoint.id, "cli_a", since=start)
    assert len(copies) == 3  # the originals only, not the earlier replay
    _drain(sender)
    assert len(receiver.verified()) == 7


def test_after_rotation_both_secrets_sign_during_the_grace_period_then_only_the_new(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    receiver = serve_receiver(Receiver())
    endpoint = _endpoint(endpoints, "cli_a", receiver)
    _, new_secret = endpoints.rotate_secret(endpoint.id, "cli_a", dt.timedelta(hours=1))
    receiver.secrets.append(new_secret)
    fanout.handle(order_event("cli_a"))
    sender = make_sender()
    sender.run_once()
    during = receiver.received[-1]
    assert during.verified_with == [0, 1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    endpoints.rotate_secret(endpoint.id, "cli_a", dt.timedelta(0))
    _, newest = endpoints.rotate_secret(endpoint.id, "cli_a", dt.timedelta(0))
    receiver.secrets.append(newest)
    fanout.handle(order_event("cli_a"))
    sender.run_once()
    after = receiver.received[-1]
    assert after.verified_with == [2]
    Webhook(newest).verify(after.body, after.headers)


def test_a_slow_endpoint_does_not_hold_up_another(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    release = threading.Event()
    slow = serve_receiver(Receiver(hold=release))
    fast = serve_receiver(Receiver())
    slow_endpoint = _endpoint(endpoints, "cli_a", slow)
    _endpoint(endpoints, "cli_b", fast)
    for _ in range(5):
        fanout.handle(order_event("cli_a"))
    fanout.handle(order_event("cli_b"))
    sender = make_sender(per_endpoint_concurrency=2, timeout=10.0)
    started = sender.run_once(wait=False)
    assert started == 3  # two for the slow endpoint (its limit), one for the fast one
    wait_for(lambda: len(fast.received) == 1)
    assert slow.received == []  # still held: the fast endpoint did not wait for it
    assert sender.run_once(wait=False) == 0  # the slow endpoint has no room; nothing else due
    release.set()
    wait_for(lambda: len(slow.received) == 2)
    sender.close()
    log = _log(endpoints, slow_endpoint.id)
    assert sum(d.delivery.state is DeliveryState.SUCCEEDED for d in log) == 2


def test_disabling_an_endpoint_dead_letters_its_pending_deliveries(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
) -> None:
    endpoint, _ = endpoints.create("cli_a", f"http://127.0.0.1:{free_port()}/hooks", ["*"])
    fanout.handle(order_event("cli_a"))
    endpoints.disable(endpoint.id, "cli_a")
    assert make_sender().run_once() == 0
    [logged] = _log(endpoints, endpoint.id)
    assert logged.delivery.state is DeliveryState.DEAD and logged.attempts == ()
    fanout.handle(order_event("cli_a"))  # a disabled endpoint takes no new deliveries
    assert len(_log(endpoints, endpoint.id)) == 1


def test_the_sender_loop_delivers_in_the_background_until_stopped(
    endpoints: WebhookEndpointService,
    fanout: WebhookFanout,
    make_sender: Callable[..., WebhookSender],
    serve_receiver: Start,
) -> None:
    receiver = serve_receiver(Receiver())
    _endpoint(endpoints, "cli_a", receiver)
    stop = threading.Event()
    loop = threading.Thread(target=make_sender().run_forever, args=(stop, 0.02))
    loop.start()
    for _ in range(3):
        fanout.handle(order_event("cli_a"))
    wait_for(lambda: len(receiver.verified()) == 3)
    stop.set()
    loop.join(timeout=10)
    assert not loop.is_alive()
