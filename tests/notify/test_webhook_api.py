"""`/v1/webhook-endpoints` over HTTP: register, change, rotate, disable, log, replay, isolate."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.api.conftest import Caller, fund, make_app, new_caller
from twinrail.api.domain.model import Principal
from twinrail.api.domain.roles import Role
from twinrail.notify.service.fanout import WebhookFanout
from twinrail.notify.store.tables import endpoints as endpoint_rows
from twinrail.platform.bus import InProcessBus
from twinrail.platform.relay import OutboxRelay

from .conftest import TEST_KEY, Receiver

BASE = "/v1/webhook-endpoints"


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TWINRAIL_NOTIFY_SECRET_KEY", TEST_KEY)
    with TestClient(make_app(engine), raise_server_exceptions=False) as test_client:
        yield test_client


def _post(client: TestClient, caller: Caller, url: str, body: Any = None):  # type: ignore[no-untyped-def]
    headers = {**caller.headers, "Idempotency-Key": uuid.uuid4().hex}
    return client.post(url, json=body, headers=headers)


def _register(client: TestClient, caller: Caller, url: str = "https://hooks.example.com/x"):  # type: ignore[no-untyped-def]
    created = _post(client, caller, BASE, {"url": url, "event_types": ["*"]})
    assert created.status_code == 201, created.text
    return created.json()


def test_an_endpoint_shows_its_secret_once_and_stores_it_sealed(
    client: TestClient, engine: Engine
) -> None:
    alice = new_caller(client, Role.CLIENT)
    created = _register(client, alice)
    assert created["secret"].startswith("whsec_") and created["status"] == "enabled"
    fetched = client.get(f"{BASE}/{created['id']}", headers=alice.headers).json()
    assert "secret" not in fetched and fetched["event_types"] == ["*"]
    listed = client.get(BASE, headers=alice.headers).json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    assert created["secret"] not in str(listed)
    with engine.connect() as conn:
        stored = conn.execute(select(endpoint_rows.c.secret)).scalar_one()
    assert stored.startswith("v1:") and created["secret"] not in stored


def test_event_types_and_urls_are_checked_and_can_be_changed(client: TestClient) -> None:
    alice = new_caller(client, Role.CLIENT)
    bad_type = _post(client, alice, BASE, {"url": "https://a.example", "event_types": ["nope"]})
    assert bad_type.status_code == 422
    assert bad_type.json()["code"] == "notify.invalid_endpoint"
    bad_url = _post(client, alice, BASE, {"url": "ftp://a.example/x", "event_types": ["*"]})
    assert bad_url.status_code == 422
    endpoint = _register(client, alice)
    changed = client.patch(
        f"{BASE}/{endpoint['id']}",
        json={"event_types": ["payment_order.failed", "payment_order.completed"]},
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["payment_order.completed", "payment_order.failed"]


def test_rotation_returns_a_new_secret_and_a_disabled_endpoint_refuses_it(
    client: TestClient,
) -> None:
    alice = new_caller(client, Role.CLIENT)
    endpoint = _register(client, alice)
    rotated = _post(client, alice, f"{BASE}/{endpoint['id']}/rotate-secret",
                    {"grace_period_seconds": 600})  # fmt: skip
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["endpoint"]["previous_secret_expires_at"] is not None
    disabled = _post(client, alice, f"{BASE}/{endpoint['id']}/disable")
    assert disabled.json()["status"] == "disabled"
    refused = _post(client, alice, f"{BASE}/{endpoint['id']}/rotate-secret")
    assert refused.status_code == 409
    assert refused.json()["code"] == "notify.endpoint_disabled"
    enabled = _post(client, alice, f"{BASE}/{endpoint['id']}/enable")
    assert enabled.json()["status"] == "enabled"


def test_another_tenants_endpoint_answers_404_everywhere(client: TestClient) -> None:
    alice, bob = new_caller(client, Role.CLIENT), new_caller(client, Role.CLIENT)
    endpoint_id = _register(client, alice)["id"]
    own = f"{BASE}/{endpoint_id}"
    assert client.get(own, headers=alice.headers).status_code == 200
    probes = [
        client.get(own, headers=bob.headers),
        client.get(f"{own}/deliveries", headers=bob.headers),
        client.get(f"{own}/deliveries/whd_x", headers=bob.headers),
        client.patch(own, json={"description": "mine now"}, headers=bob.headers),
        _post(client, bob, f"{own}/disable"),
        _post(client, bob, f"{own}/enable"),
        _post(client, bob, f"{own}/rotate-secret"),
        _post(client, bob, f"{own}/replay", {"delivery_id": "whd_x"}),
    ]
    for response in probes:
        assert response.status_code == 404, response.request.url
        body = response.json()
        assert body["code"] == "notify.unknown_endpoint", body
        assert endpoint_id not in body["detail"] and "url" not in body
    assert client.get(BASE, headers=bob.headers).json()["data"] == []
    operator = new_caller(client, Role.OPERATOR)
    assert [e["id"] for e in client.get(BASE, headers=operator.headers).json()["data"]] == [
        endpoint_id
    ]
    staff_create = _post(client, operator, BASE, {"url": "https://a.example", "event_types": ["*"]})
    assert staff_create.status_code == 403


def _account(client: TestClient, caller: Caller, funded: int = 0) -> str:
    customer = _post(client, caller, "/v1/customers", {"kind": "individual", "name": "P"}).json()
    account = _post(client, caller, "/v1/accounts", {"customer_id": customer["id"], "asset": "EUR"})
    account_id: str = account.json()["id"]
    if funded:
        services = client.app.state.services  # type: ignore[attr-defined]
        principal = Principal(caller.client_id, caller.role, "test")
        ledger_id = services.customers.account(principal, account_id).ledger_account_id
        fund(services.platform.ledger, ledger_id, funded)
    return account_id


def test_a_payment_order_ends_as_signed_webhooks_that_can_be_replayed(
    client: TestClient,
    engine: Engine,
    serve_receiver: Callable[[Receiver], Receiver],
    make_sender: Callable[..., Any],
) -> None:
    alice, bob = new_caller(client, Role.CLIENT), new_caller(client, Role.CLIENT)
    receiver, bobs_receiver = serve_receiver(Receiver()), serve_receiver(Receiver())
    created = _post(client, alice, BASE,
                    {"url": receiver.url, "event_types": ["payment_order.completed"]})  # fmt: skip
    receiver.secrets.append(created.json()["secret"])
    bobs_receiver.secrets.append(_register(client, bob, bobs_receiver.url)["secret"])
    src, dst = _account(client, alice, funded=10_000), _account(client, alice)
    order = _post(client, alice, "/v1/payment-orders",
                  {"type": "internal_transfer", "amount": "2500", "asset": "EUR",
                   "source_account_id": src, "destination_account_id": dst})  # fmt: skip
    assert order.json()["state"] == "completed", order.text

    bus = InProcessBus()
    WebhookFanout(engine).subscribe(bus)
    relay = OutboxRelay(engine, bus)
    while relay.relay_once():
        pass
    relay.lease.release()
    sender = make_sender()
    sender.run_once()

    [got] = receiver.verified()
    assert got.json["type"] == "payment_order.completed"
    assert got.json["data"]["payment_order_id"] == order.json()["id"]
    assert bobs_receiver.received == []  # alice's order is nobody else's business
    endpoint_url = f"{BASE}/{created.json()['id']}"
    log = client.get(f"{endpoint_url}/deliveries", headers=alice.headers).json()["data"]
    assert [(d["state"], [a["status_code"] for a in d["attempts"]]) for d in log] == [
        ("succeeded", [204])
    ]
    replay = _post(client, alice, f"{endpoint_url}/replay", {"delivery_id": log[0]["id"]})
    assert replay.status_code == 202 and replay.json()["count"] == 1
    sender.run_once()
    assert len(receiver.verified()) == 2
    assert receiver.received[1].headers["webhook-id"] == got.headers["webhook-id"]
    one = client.get(f"{endpoint_url}/deliveries/{replay.json()['deliveries'][0]}",
                     headers=alice.headers).json()  # fmt: skip
    assert one["replay_of"] == log[0]["id"] and one["state"] == "succeeded"
