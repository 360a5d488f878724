"""Tenant isolation: a client sees only its own customers and accounts; others' ids answer 404."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from twinrail.api.domain.roles import Role

from .conftest import Caller, fund, new_caller


def _post(client: TestClient, caller: Caller, url: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    headers = {**caller.headers, "Idempotency-Key": uuid.uuid4().hex}
    return client.post(url, json=body, headers=headers)


def _customer_with_account(client: TestClient, caller: Caller) -> tuple[str, str]:
    customer = _post(client, caller, "/v1/customers", {"kind": "business", "name": "Acme"})
    assert customer.status_code == 201, customer.text
    account = _post(
        client, caller, "/v1/accounts", {"customer_id": customer.json()["id"], "asset": "EUR"}
    )
    assert account.status_code == 201, account.text
    return customer.json()["id"], account.json()["id"]


def test_another_tenants_ids_answer_404_on_every_resource(client: TestClient) -> None:
    alice, bob = new_caller(client, Role.CLIENT), new_caller(client, Role.CLIENT)
    customer_id, account_id = _customer_with_account(client, alice)
    probes = [
        f"/v1/customers/{customer_id}",
        f"/v1/accounts/{account_id}",
        f"/v1/accounts/{account_id}/balance",
        f"/v1/accounts/{account_id}/statement",
        f"/v1/accounts?customer_id={customer_id}",
    ]
    for url in probes:
        assert client.get(url, headers=alice.headers).status_code == 200, url
        response = client.get(url, headers=bob.headers)
        assert response.status_code == 404, url
        assert response.json()["code"] == "api.not_found"
        assert "Acme" not in response.text
    opened = _post(client, bob, "/v1/accounts", {"customer_id": customer_id, "asset": "EUR"})
    assert opened.status_code == 404


def test_lists_show_only_the_callers_own_rows_while_staff_see_every_tenant(
    client: TestClient,
) -> None:
    alice, bob = new_caller(client, Role.CLIENT), new_caller(client, Role.CLIENT)
    alice_customer, alice_account = _customer_with_account(client, alice)
    bob_customer, bob_account = _customer_with_account(client, bob)

    def ids(caller: Caller, url: str) -> set[str]:
        return {row["id"] for row in client.get(url, headers=caller.headers).json()["data"]}

    assert ids(alice, "/v1/customers") == {alice_customer}
    assert ids(bob, "/v1/accounts") == {bob_account}
    auditor = new_caller(client, Role.AUDITOR)
    assert {alice_customer, bob_customer} <= ids(auditor, "/v1/customers")
    assert {alice_account, bob_account} <= ids(auditor, "/v1/accounts")


def test_balance_and_statement_come_from_the_ledger(client: TestClient) -> None:
    alice = new_caller(client, Role.CLIENT)
    _, account_id = _customer_with_account(client, alice)
    services = client.app.state.services  # type: ignore[attr-defined]
    ledger_id = services.customers.account(_principal(alice), account_id).ledger_account_id
    fund(services.platform.ledger, ledger_id, 12_345)
    balance = client.get(f"/v1/accounts/{account_id}/balance", headers=alice.headers).json()
    assert balance == {"account_id": account_id, "asset": "EUR", "posted": "12345",
                       "pending": "0", "available": "12345"}  # fmt: skip
    statement = client.get(f"/v1/accounts/{account_id}/statement", headers=alice.headers).json()
    assert [line["balance_after"] for line in statement["lines"]] == ["12345"]
    assert "ledger_account_id" not in balance and ledger_id not in str(statement)


def test_lists_page_with_a_cursor_until_the_last_page(client: TestClient) -> None:
    alice = new_caller(client, Role.CLIENT)
    created = [
        _post(client, alice, "/v1/customers", {"kind": "individual", "name": f"P{i}"}).json()["id"]
        for i in range(5)
    ]
    seen: list[str] = []
    url = "/v1/customers?limit=2"
    while True:
        page = client.get(url, headers=alice.headers).json()
        seen += [row["id"] for row in page["data"]]
        if page["next_cursor"] is None:
            break
        url = f"/v1/customers?limit=2&cursor={page['next_cursor']}"
    assert seen == sorted(created)
    bad = client.get("/v1/customers?cursor=not-a-cursor", headers=alice.headers)
    assert bad.status_code == 400 and bad.json()["code"] == "api.invalid_cursor"


def _principal(caller: Caller):  # type: ignore[no-untyped-def]
    from twinrail.api.domain.model import Principal

    return Principal(caller.client_id, caller.role, "test")
