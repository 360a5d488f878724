"""Steps a PIS / PIIS TPP takes against the sandbox bank, shared by the payment tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.conftest import PSU_IP, headers

__all__ = [
    "SCT",
    "INSTANT",
    "CREDITOR_IBAN",
    "payment_body",
    "initiate",
    "authorise_payment",
    "available",
    "entries",
    "codes",
]

SCT, INSTANT = "sepa-credit-transfers", "instant-sepa-credit-transfers"
CREDITOR_IBAN = "DE89370400440532013000"


def codes(response: httpx.Response) -> list[str]:
    return [m["code"] for m in response.json()["tppMessages"]]


def payment_body(
    debtor_iban: str, amount: str = "12.50", *, currency: str = "EUR", **extra: Any
) -> dict[str, Any]:
    """A paymentInitiation_json body from `debtor_iban` to a fixed creditor."""
    body: dict[str, Any] = {
        "endToEndIdentification": "E2E-TEST-1",
        "debtorAccount": {"iban": debtor_iban},
        "instructedAmount": {"currency": currency, "amount": amount},
        "creditorAccount": {"iban": CREDITOR_IBAN},
        "creditorName": "Stadtwerke Musterstadt",
        "remittanceInformationUnstructured": "Invoice 42",
    }
    body.update(extra)
    return body


def initiate(client: httpx.Client, body: Any, product: str = SCT) -> httpx.Response:
    """POST /v1/payments/{product} with the PSU present."""
    return client.post(f"/v1/payments/{product}", json=body, headers=headers(PSU_IP_Address=PSU_IP))


def authorise_payment(
    client: httpx.Client, product: str, payment_id: str, psu_id: str = "alice",
    password: str | None = None, otp: str | None = None, segment: str = "authorisations",
) -> httpx.Response:  # fmt: skip
    """The embedded SCA of a payment (or, with segment="cancellation-authorisations", of its
    cancellation): start, password, OTP; returns the last answer."""
    password = password or f"{psu_id}-sandbox"
    otp = otp or {"alice": "123456", "bob": "654321", "carol": "111111"}[psu_id]
    started = client.post(
        f"/v1/payments/{product}/{payment_id}/{segment}", headers=headers(PSU_ID=psu_id)
    )
    assert started.status_code == 201, started.text
    link = started.json()["_links"]["updatePsuAuthentication"]["href"]
    step = client.put(
        link, json={"psuData": {"password": password}}, headers=headers(PSU_ID=psu_id)
    )
    assert step.status_code == 200, step.text
    return client.put(link, json={"scaAuthenticationData": otp}, headers=headers(PSU_ID=psu_id))


def available(sandbox_bank: Any, account_id: str) -> int:
    """The account's interimAvailable in cents, from the bank's own books."""
    from twinrail.sandbox.bank.domain.accounts import balances_of
    from twinrail.sandbox.bank.store.bank_store import BankStore

    service = sandbox_bank.service
    with service.engine.connect() as conn, conn.begin():
        store = BankStore(conn)
        account = store.account(account_id)
        history = store.transactions_of(account_id)
    by_type = {
        b.balance_type: b.amount for b in balances_of(account, history, service.clock().date())
    }
    return by_type["interimAvailable"]


def entries(sandbox_bank: Any, account_id: str) -> dict[str, Any]:
    """The account's transactions by id."""
    from twinrail.sandbox.bank.store.bank_store import BankStore

    with sandbox_bank.service.engine.connect() as conn, conn.begin():
        return {t.transaction_id: t for t in BankStore(conn).transactions_of(account_id)}
