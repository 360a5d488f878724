"""Cancelling payments before execution: at once while unauthorised, through the PSU's
cancellation authorisation (202 + embedded SCA) once authorised, never once executed."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import headers
from tests.sandbox.pis_flow import (
    SCT,
    authorise_payment,
    available,
    codes,
    entries,
    initiate,
    payment_body,
)

CANCEL = "cancellation-authorisations"


@pytest.fixture
def alice_current(accounts_of):
    return next(a for a in accounts_of("alice") if a.cash_account_type == "CACC")


def accepted_payment(client, account, amount):
    payment_id = initiate(client, payment_body(account.iban, amount)).json()["paymentId"]
    assert authorise_payment(client, SCT, payment_id).json()["scaStatus"] == "finalised"
    return payment_id


def status_of(client, payment_id):
    return client.get(f"/v1/payments/{SCT}/{payment_id}/status", headers=headers()).json()


def test_cancelling_an_authorised_transfer_needs_the_psus_cancellation_sca(
    pis_client, alice_current, sandbox_bank
):
    before = available(sandbox_bank, alice_current.resource_id)
    payment_id = accepted_payment(pis_client, alice_current, "8.00")
    response = pis_client.delete(f"/v1/payments/{SCT}/{payment_id}", headers=headers())
    assert response.status_code == 202
    assert response.json()["transactionStatus"] == "ACTC"
    link = response.json()["_links"]["startAuthorisationWithPsuAuthentication"]["href"]
    assert link == f"/v1/payments/{SCT}/{payment_id}/{CANCEL}"
    assert status_of(pis_client, payment_id)["transactionStatus"] == "ACTC"

    done = authorise_payment(pis_client, SCT, payment_id, segment=CANCEL)
    assert done.json()["scaStatus"] == "finalised"
    assert status_of(pis_client, payment_id)["transactionStatus"] == "CANC"
    assert available(sandbox_bank, alice_current.resource_id) == before
    # The pending debit is gone, not booked against a reversal.
    mine = [
        t
        for t in entries(sandbox_bank, alice_current.resource_id).values()
        if t.entry_reference == "E2E-TEST-1" and t.amount == -800
    ]
    assert mine == []


def test_cancellation_authorisations_are_listed_and_read_apart_from_the_payments(
    pis_client, alice_current
):
    payment_id = accepted_payment(pis_client, alice_current, "2.10")
    base = f"/v1/payments/{SCT}/{payment_id}"
    started = pis_client.post(f"{base}/{CANCEL}", headers=headers(PSU_ID="alice"))
    assert started.status_code == 201
    auth_id = started.json()["authorisationId"]
    update = started.json()["_links"]["updatePsuAuthentication"]["href"]
    assert update == f"{base}/{CANCEL}/{auth_id}"
    listed = pis_client.get(f"{base}/{CANCEL}", headers=headers()).json()
    assert listed == {"authorisationIds": [auth_id]}
    assert pis_client.get(update, headers=headers()).json() == {"scaStatus": "received"}
    # A cancellation authorisation is not one of the payment's authorisations.
    other = pis_client.get(f"{base}/authorisations/{auth_id}", headers=headers())
    assert (other.status_code, codes(other)) == (404, ["RESOURCE_UNKNOWN"])


def test_a_failed_cancellation_sca_leaves_the_payment_to_execute(
    pis_client, alice_current, bank_clock
):
    payment_id = accepted_payment(pis_client, alice_current, "2.20")
    started = pis_client.post(
        f"/v1/payments/{SCT}/{payment_id}/{CANCEL}",
        json={"psuData": {"password": "alice-sandbox"}},
        headers=headers(PSU_ID="alice"),
    )
    link = started.json()["_links"]["authoriseTransaction"]["href"]
    for _ in range(3):
        wrong = pis_client.put(link, json={"scaAuthenticationData": "999999"}, headers=headers())
        assert (wrong.status_code, codes(wrong)) == (401, ["PSU_CREDENTIALS_INVALID"])
    assert status_of(pis_client, payment_id)["transactionStatus"] == "ACTC"
    bank_clock.advance(days=1, seconds=1)
    assert status_of(pis_client, payment_id)["transactionStatus"] == "ACSC"


def test_a_cancellation_sca_finished_after_execution_is_too_late(
    pis_client, alice_current, bank_clock
):
    payment_id = accepted_payment(pis_client, alice_current, "2.30")
    started = pis_client.post(
        f"/v1/payments/{SCT}/{payment_id}/{CANCEL}",
        json={"psuData": {"password": "alice-sandbox"}},
        headers=headers(PSU_ID="alice"),
    )
    link = started.json()["_links"]["authoriseTransaction"]["href"]
    bank_clock.advance(days=1, seconds=1)
    late = pis_client.put(link, json={"scaAuthenticationData": "123456"}, headers=headers())
    assert (late.status_code, codes(late)) == (409, ["STATUS_INVALID"])
    assert status_of(pis_client, payment_id)["transactionStatus"] == "ACSC"


def test_another_psu_cannot_cancel_alices_payment(pis_client, alice_current):
    payment_id = accepted_payment(pis_client, alice_current, "2.40")
    done = authorise_payment(pis_client, SCT, payment_id, psu_id="bob", segment=CANCEL)
    assert (done.status_code, codes(done)) == (409, ["STATUS_INVALID"])
    assert status_of(pis_client, payment_id)["transactionStatus"] == "ACTC"


def test_an_unauthorised_payment_has_no_cancellation_authorisation(pis_client, alice_current):
    payment_id = initiate(pis_client, payment_body(alice_current.iban)).json()["paymentId"]
    started = pis_client.post(f"/v1/payments/{SCT}/{payment_id}/{CANCEL}", headers=headers())
    assert (started.status_code, codes(started)) == (409, ["STATUS_INVALID"])
