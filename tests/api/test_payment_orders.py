"""Payment orders over HTTP: internal transfers to completed, limits, funds, rails, tenants."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from twinrail.api.domain.model import Principal
from twinrail.api.domain.roles import Role
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.ledger.domain.commands import DefineAsset

from .conftest import Caller, fund, new_caller


def _post(client: TestClient, caller: Caller, url: str, body: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        url, json=body, headers={**caller.headers, "Idempotency-Key": uuid.uuid4().hex}
    )


def _account(client: TestClient, caller: Caller, funded: int = 0, asset: str = "EUR") -> str:
    customer = _post(client, caller, "/v1/customers", {"kind": "individual", "name": "P"}).json()
    account = _post(client, caller, "/v1/accounts", {"customer_id": customer["id"], "asset": asset})
    account_id: str = account.json()["id"]
    if funded:
        services = client.app.state.services  # type: ignore[attr-defined]
        principal = Principal(caller.client_id, caller.role, "test")
        ledger_id = services.customers.account(principal, account_id).ledger_account_id
        fund(services.platform.ledger, ledger_id, funded, asset)
    return account_id


def _order(
    src: str, dst: str | None, amount: str = "2500", asset: str = "EUR", **extra: object
) -> dict[str, object]:
    return {"type": "internal_transfer", "amount": amount, "asset": asset,
            "source_account_id": src, "destination_account_id": dst, **extra}  # fmt: skip


def _available(client: TestClient, caller: Caller, account_id: str) -> str:
    url = f"/v1/accounts/{account_id}/balance"
    return str(client.get(url, headers=caller.headers).json()["available"])


def test_an_internal_transfer_runs_to_completed_and_moves_the_money(client: TestClient) -> None:
    alice = new_caller(client, Role.CLIENT)
    src, dst = _account(client, alice, funded=10_000), _account(client, alice)
    created = _post(client, alice, "/v1/payment-orders", _order(src, dst, reference="inv 1"))
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["state"] == "completed" and order["amount"] == "2500"
    assert (order["source_account_id"], order["destination_account_id"]) == (src, dst)
    assert _available(client, alice, src) == "7500"
    assert _available(client, alice, dst) == "2500"
    history = client.app.state.services.payment_orders.history(order["id"])  # type: ignore[attr-defined]
    assert [to for _, to, _ in history] == [
        "created", "screening", "approved", "processing", "completed"
    ]  # fmt: skip
    fetched = client.get(f"/v1/payment-orders/{order['id']}", headers=alice.headers)
    assert fetched.json() == order


def test_an_order_above_the_customers_kyc_tier_limit_is_rejected_and_moves_nothing(
    client: TestClient,
) -> None:
    alice = new_caller(client, Role.CLIENT)
    src, dst = _account(client, alice, funded=40_000), _account(client, alice)
    # Without a KYC profile a customer is unverified, held to tier 0: EUR 150.00 per order.
    order = _post(client, alice, "/v1/payment-orders", _order(src, dst, "15001")).json()
    assert order["state"] == "rejected"
    assert "limits.per_transaction_exceeded" in order["state_reason"]
    assert _available(client, alice, src) == "40000"
    at_limit = _post(client, alice, "/v1/payment-orders", _order(src, dst, "15000")).json()
    assert at_limit["state"] == "completed"
    services = client.app.state.services  # type: ignore[attr-defined]
    customer_id = client.get(f"/v1/accounts/{src}", headers=alice.headers).json()["customer_id"]
    KycService(services.platform.engine).set_profile(SetKycProfile(customer_id, "verified", 1))
    verified = _post(client, alice, "/v1/payment-orders", _order(src, dst, "15001")).json()
    assert verified["state"] == "completed"


def test_an_order_without_the_funds_fails_with_the_reason(client: TestClient) -> None:
    alice = new_caller(client, Role.CLIENT)
    src, dst = _account(client, alice, funded=100), _account(client, alice)
    order = _post(client, alice, "/v1/payment-orders", _order(src, dst, "101")).json()
    assert order["state"] == "failed" and "insufficient" in order["state_reason"]
    assert _available(client, alice, src) == "100"


def test_an_order_in_review_can_be_cancelled_but_a_completed_one_cannot(
    client: TestClient,
) -> None:
    alice = new_caller(client, Role.CLIENT)
    services = client.app.state.services  # type: ignore[attr-defined]
    # CHF has no price in the interim EUR price table, so compliance sends it to review.
    services.platform.ledger.define_asset(DefineAsset("CHF", 2))
    src, dst = (
        _account(client, alice, funded=10_000, asset="CHF"),
        _account(client, alice, asset="CHF"),
    )
    held = _post(client, alice, "/v1/payment-orders", _order(src, dst, "6000", asset="CHF")).json()
    assert held["state"] == "in_review", held
    assert "price.unknown_asset" in held["state_reason"]
    cancelled = _post(client, alice, f"/v1/payment-orders/{held['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    eur_src, eur_dst = _account(client, alice, funded=10_000), _account(client, alice)
    done = _post(client, alice, "/v1/payment-orders", _order(eur_src, eur_dst, "100")).json()
    refused = _post(client, alice, f"/v1/payment-orders/{done['id']}/cancel")
    assert refused.status_code == 409
    assert refused.json()["code"] == "pipeline.order_not_cancellable"
    assert _available(client, alice, eur_src) == "9900"
    assert _available(client, alice, src) == "10000"


@pytest.mark.parametrize("order_type", ["bank_payment", "on_ramp", "off_ramp"])
def test_types_without_a_rail_answer_rail_not_enabled(
    sqlite_client: TestClient, order_type: str
) -> None:
    alice = new_caller(sqlite_client, Role.CLIENT)
    body = {**_order("acc_x", None), "type": order_type}
    response = _post(sqlite_client, alice, "/v1/payment-orders", body)
    assert response.status_code == 422
    assert response.json()["code"] == "pipeline.rail_not_enabled"
    assert order_type in response.json()["detail"]


def test_orders_and_their_accounts_are_invisible_to_other_tenants(client: TestClient) -> None:
    alice, bob = new_caller(client, Role.CLIENT), new_caller(client, Role.CLIENT)
    src, dst = _account(client, alice, funded=5000), _account(client, alice)
    order = _post(client, alice, "/v1/payment-orders", _order(src, dst)).json()
    assert client.get(f"/v1/payment-orders/{order['id']}", headers=bob.headers).status_code == 404
    assert _post(client, bob, f"/v1/payment-orders/{order['id']}/cancel").status_code == 404
    assert client.get("/v1/payment-orders", headers=bob.headers).json()["data"] == []
    bob_account = _account(client, bob)
    stealing = _post(client, bob, "/v1/payment-orders", _order(src, bob_account))
    assert stealing.status_code == 404
    assert _available(client, alice, src) == "2500"
    operator = new_caller(client, Role.OPERATOR)
    listed = client.get("/v1/payment-orders", headers=operator.headers).json()["data"]
    assert order["id"] in {o["id"] for o in listed}


TRAVEL_RULE = {
    "originator": {
        "first_name": "Anna", "last_name": "Schmidt", "customer_id": "cus_anna",
        "address": {"street": "Hauptstr.", "building_number": "1", "post_code": "10115",
                    "town": "Berlin", "country": "DE"},
    },
    "beneficiary": {"first_name": "Bo", "last_name": "Li"},
    "originator_wallet": "0x" + "11" * 20,
    "originating_vasp": {"name": "Twinrail GmbH", "lei": "529900T8BM49AURSDO55"},
    "beneficiary_vasp": {"name": "Other Exchange SA"},
}  # fmt: skip
WALLET = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F"


def _eth_account(client: TestClient, caller: Caller, funded: int) -> str:
    ledger = client.app.state.services.platform.ledger  # type: ignore[attr-defined]
    ledger.define_asset(DefineAsset("ETH", 18))
    return _account(client, caller, funded=funded, asset="ETH")


def _withdrawal(src: str, **counterparty: object) -> dict[str, object]:
    return {"type": "crypto_withdrawal", "amount": str(10**16), "asset": "ETH",
            "source_account_id": src,
            "counterparty": {"name": "Bo Li", "chain_id": 31337, "wallet_address": WALLET,
                             **counterparty}}  # fmt: skip


def test_a_crypto_withdrawal_is_screened_held_and_handed_to_the_chain_rail(
    sqlite_client: TestClient,
) -> None:
    client = sqlite_client
    alice = new_caller(client, Role.CLIENT)
    src = _eth_account(client, alice, funded=10**17)

    order = _post(client, alice, "/v1/payment-orders",
                  {**_withdrawal(src), "travel_rule": TRAVEL_RULE})  # fmt: skip
    assert order.status_code == 201, order.text
    # the chain rail answers later: the funds are held until the transaction is final
    assert order.json()["state"] == "processing"
    assert _available(client, alice, src) == str(10**17 - 10**16)

    without_data = _post(client, alice, "/v1/payment-orders", _withdrawal(src)).json()
    assert without_data["state"] == "in_review"  # the travel rule wants the parties first
    assert "travel_rule" in without_data["state_reason"]
    assert _available(client, alice, src) == str(10**17 - 10**16)


@pytest.mark.parametrize(
    ("counterparty", "fragment"),
    [
        ({"wallet_address": None}, "wallet_address"),
        ({"wallet_address": WALLET.lower().replace("0x", "0x", 1)[:41] + "G"}, "wallet_address"),
        ({"wallet_address": "0x71c7656EC7ab88b098defB751B7401B5f6d8976F"}, "checksum"),
        ({"chain_id": 999_999}, "chain"),
    ],
)
def test_a_crypto_withdrawal_to_a_bad_destination_is_refused_before_it_is_recorded(
    sqlite_client: TestClient, counterparty: dict[str, object], fragment: str
) -> None:
    client = sqlite_client
    alice = new_caller(client, Role.CLIENT)
    src = _eth_account(client, alice, funded=10**17)
    body = _withdrawal(src, **counterparty)
    if counterparty.get("wallet_address", "") is None:
        body["counterparty"] = {"name": "Bo Li", "chain_id": 31337}
    refused = _post(client, alice, "/v1/payment-orders", body)
    assert refused.status_code == 422, refused.text
    assert fragment in refused.text.lower()
    assert client.get("/v1/payment-orders", headers=alice.headers).json()["data"] == []
    assert _available(client, alice, src) == str(10**17)
