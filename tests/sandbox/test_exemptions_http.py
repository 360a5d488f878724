"""Exemptions over mutual TLS at a bank that applies them: the TPP sees `scaStatus: exempted`
and the payment goes to ACTC without SCA; counters reset after an SCA."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.pis_flow import authorise_payment
from tests.sandbox.sca_flow import SCT, RunningBank, payment_body, run_bank, sca_status
from twinrail.sandbox.bank.domain.authorisation import ScaPolicy
from twinrail.sandbox.bank.store.bank_store import BankStore


@pytest.fixture(scope="module")
def module_bank(qtsp, tmp_path_factory, session_clock) -> Iterator[RunningBank]:
    yield from run_bank(
        "sca-exempt", qtsp, tmp_path_factory, session_clock, ScaPolicy(exemptions=True)
    )


@pytest.fixture
def running(module_bank: RunningBank) -> RunningBank:
    module_bank.bank.service.seed()  # counters and payments start from nothing in every test
    return module_bank


def pay(running: RunningBank, amount: str, **body_extra) -> dict:
    iban = running.alice_current().iban
    response = running.tpp.post(
        f"/v1/payments/{SCT}", json=payment_body(iban, amount, **body_extra),
        headers=headers(PSU_IP_Address=PSU_IP),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def test_a_low_value_payment_is_exempted_and_accepted_without_sca(running):
    body = pay(running, "12.50")
    assert (body["transactionStatus"], body["scaStatus"]) == ("ACTC", "exempted")
    assert "startAuthorisationWithPsuAuthentication" not in body["_links"]
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "exempted"


def test_after_five_low_value_exemptions_the_sixth_needs_sca_and_an_sca_resets_the_count(running):
    for _ in range(5):
        assert pay(running, "10.00")["scaStatus"] == "exempted"
    sixth = pay(running, "10.00")
    assert sixth["transactionStatus"] == "RCVD" and "scaStatus" not in sixth
    done = authorise_payment(running.tpp, SCT, sixth["paymentId"])
    assert done.json()["scaStatus"] == "finalised"
    assert pay(running, "10.00")["scaStatus"] == "exempted"


def test_the_cumulative_hundred_euros_since_the_last_sca_ends_low_value_exemptions(running):
    for amount in ("30.00", "30.00", "30.00"):
        assert pay(running, amount)["scaStatus"] == "exempted"
    assert pay(running, "10.01")["transactionStatus"] == "RCVD"
    assert pay(running, "10.00")["scaStatus"] == "exempted"  # exactly EUR 100


def test_a_trusted_beneficiary_is_exempt_at_any_amount(running):
    body = pay(running, "900.00", creditor_iban="FR1420041010050500013M02606",
               creditor_name="Boulangerie Dupont")  # fmt: skip
    assert (body["transactionStatus"], body["scaStatus"]) == ("ACTC", "exempted")


def accounts(running: RunningBank, psu_id: str) -> list:
    with running.bank.service.engine.connect() as conn:
        return BankStore(conn).accounts_of(psu_id)


def test_a_transfer_between_the_psus_own_accounts_is_exempt(running):
    savings = next(a for a in accounts(running, "alice") if a.cash_account_type == "SVGS")
    body = pay(running, "500.00", creditor_iban=savings.iban, creditor_name="Alice Example")
    assert (body["transactionStatus"], body["scaStatus"]) == ("ACTC", "exempted")


def test_a_recurring_payment_is_exempt_after_the_first_one_had_sca(running):
    first = pay(running, "75.00")
    assert first["transactionStatus"] == "RCVD"
    assert (
        authorise_payment(running.tpp, SCT, first["paymentId"]).json()["scaStatus"] == "finalised"
    )
    again = pay(running, "75.00")
    assert (again["transactionStatus"], again["scaStatus"]) == ("ACTC", "exempted")
    assert pay(running, "75.01")["transactionStatus"] == "RCVD"  # another amount needs SCA


def test_an_exempted_payment_without_funds_is_rejected(running):
    bob = accounts(running, "bob")[0]
    response = running.tpp.post(
        f"/v1/payments/{SCT}",
        json=payment_body(bob.iban, "20000.00", creditor_iban="GB29NWBK60161331926819",
                          creditor_name="Online Books Ltd"),
        headers=headers(PSU_IP_Address=PSU_IP),
    )  # fmt: skip
    assert (response.json()["transactionStatus"], response.json()["scaStatus"]) == (
        "RJCT", "exempted",
    )  # fmt: skip
