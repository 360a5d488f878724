"""Single SEPA payments through their lifecycle over mutual TLS, every answer checked against the
spec: RCVD -> ACTC after SCA -> ACSC / ACCC after the settlement delay in sandbox time."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.ais_flow import ais_headers, valid_consent
from tests.sandbox.conftest import headers
from tests.sandbox.pis_flow import (
    INSTANT,
    SCT,
    authorise_payment,
    available,
    codes,
    entries,
    initiate,
    payment_body,
)
from twinrail.openbanking.domain.psd2 import OrganizationIdentifier, Psd2Role


@pytest.fixture
def alice_current(accounts_of):
    return next(a for a in accounts_of("alice") if a.cash_account_type == "CACC")


def new_payment(client, account, amount="12.50", product=SCT):
    response = initiate(client, payment_body(account.iban, amount), product)
    assert response.status_code == 201, response.text
    return response.json()["paymentId"]


def status_of(client, payment_id, product=SCT):
    response = client.get(f"/v1/payments/{product}/{payment_id}/status", headers=headers())
    assert response.status_code == 200, response.text
    return response.json()


def test_a_new_payment_is_received_and_offers_the_embedded_authorisation(pis_client, alice_current):
    response = initiate(pis_client, payment_body(alice_current.iban))
    assert response.status_code == 201
    body = response.json()
    assert body["transactionStatus"] == "RCVD"
    assert response.headers["Location"] == f"/v1/payments/{SCT}/{body['paymentId']}"
    assert response.headers["ASPSP-SCA-Approach"] == "EMBEDDED"
    assert body["_links"]["startAuthorisationWithPsuAuthentication"]["href"].endswith(
        "/authorisations"
    )
    assert status_of(pis_client, body["paymentId"]) == {"transactionStatus": "RCVD"}


def test_the_payment_resource_repeats_the_initiation_with_its_status(pis_client, alice_current):
    payment_id = new_payment(pis_client, alice_current, "7.05")
    body = pis_client.get(f"/v1/payments/{SCT}/{payment_id}", headers=headers()).json()
    assert body["instructedAmount"] == {"currency": "EUR", "amount": "7.05"}
    assert body["debtorAccount"]["iban"] == alice_current.iban
    assert body["creditorName"] == "Stadtwerke Musterstadt"
    assert body["transactionStatus"] == "RCVD"


def test_sca_accepts_the_payment_and_debits_a_pending_entry(
    pis_client, alice_current, sandbox_bank
):
    before = available(sandbox_bank, alice_current.resource_id)
    payment_id = new_payment(pis_client, alice_current, "25.00")
    done = authorise_payment(pis_client, SCT, payment_id)
    assert done.json()["scaStatus"] == "finalised"
    assert status_of(pis_client, payment_id) == {
        "transactionStatus": "ACTC",
        "fundsAvailable": True,
    }
    assert available(sandbox_bank, alice_current.resource_id) == before - 2500
    mine = [
        t.status
        for t in entries(sandbox_bank, alice_current.resource_id).values()
        if t.entry_reference == "E2E-TEST-1" and t.amount == -2500
    ]
    assert "pending" in mine


def test_a_credit_transfer_settles_after_a_day_of_sandbox_time_and_is_booked(
    pis_client, alice_current, sandbox_bank, bank_clock
):
    payment_id = new_payment(pis_client, alice_current, "3.33")
    authorise_payment(pis_client, SCT, payment_id)
    bank_clock.advance(hours=23)
    assert status_of(pis_client, payment_id)["transactionStatus"] == "ACTC"
    bank_clock.advance(hours=1, seconds=1)
    assert status_of(pis_client, payment_id)["transactionStatus"] == "ACSC"
    booked = [t for t in entries(sandbox_bank, alice_current.resource_id).values()
              if t.amount == -333 and t.remittance == "Invoice 42"]  # fmt: skip
    assert [t.status for t in booked] == ["booked"]
    # Booked on the settlement day (a minute's slack for a run that crosses midnight).
    now = bank_clock()
    assert booked[0].booking_date in {now.date(), (now - dt.timedelta(minutes=1)).date()}


def test_account_information_shows_the_settled_payment_as_booked(
    pis_client, ais_client, alice_current, bank_clock
):
    consent_id = valid_consent(ais_client, [alice_current.iban])
    payment_id = new_payment(pis_client, alice_current, "4.44")
    authorise_payment(pis_client, SCT, payment_id)
    path = f"/v1/accounts/{alice_current.resource_id}/transactions"
    params = {"bookingStatus": "both", "itemsPerPage": "500"}

    def amounts(kind):
        report = ais_client.get(path, params=params, headers=ais_headers(consent_id)).json()
        return [t["transactionAmount"]["amount"] for t in report["transactions"][kind]]

    assert "-4.44" in amounts("pending")
    bank_clock.advance(days=1, seconds=1)
    # Settlement is lazy: the AIS read itself sees the due payment booked.
    assert "-4.44" in amounts("booked") and "-4.44" not in amounts("pending")


def test_an_instant_payment_is_credited_within_seconds(pis_client, alice_current, bank_clock):
    payment_id = new_payment(pis_client, alice_current, "1.00", INSTANT)
    authorise_payment(pis_client, INSTANT, payment_id)
    assert status_of(pis_client, payment_id, INSTANT)["transactionStatus"] == "ACTC"
    bank_clock.advance(seconds=11)
    assert status_of(pis_client, payment_id, INSTANT)["transactionStatus"] == "ACCC"


def test_a_payment_beyond_the_available_balance_is_rejected_for_insufficient_funds(
    pis_client, accounts_of, sandbox_bank
):
    bob = accounts_of("bob")[0]
    before = available(sandbox_bank, bob.resource_id)
    payment_id = new_payment(pis_client, bob, "99999999.00")
    authorise_payment(pis_client, SCT, payment_id, psu_id="bob")
    status = status_of(pis_client, payment_id)
    assert status["transactionStatus"] == "RJCT"
    assert status["tppMessages"][0]["text"].startswith("AM04")
    assert available(sandbox_bank, bob.resource_id) == before


def test_another_psu_cannot_authorise_a_payment_from_alices_account(pis_client, alice_current):
    payment_id = new_payment(pis_client, alice_current)
    authorise_payment(pis_client, SCT, payment_id, psu_id="bob")
    status = status_of(pis_client, payment_id)
    assert status["transactionStatus"] == "RJCT"
    assert status["psuMessage"].startswith("AG01")


def test_three_wrong_otps_fail_the_sca_and_reject_the_payment(pis_client, alice_current):
    payment_id = new_payment(pis_client, alice_current)
    started = pis_client.post(
        f"/v1/payments/{SCT}/{payment_id}/authorisations",
        json={"psuData": {"password": "alice-sandbox"}},
        headers=headers(PSU_ID="alice"),
    )
    assert started.json()["scaStatus"] == "scaMethodSelected"
    link = started.json()["_links"]["authoriseTransaction"]["href"]
    for _ in range(3):
        wrong = pis_client.put(link, json={"scaAuthenticationData": "000000"}, headers=headers())
        assert (wrong.status_code, codes(wrong)) == (401, ["PSU_CREDENTIALS_INVALID"])
    assert pis_client.get(link, headers=headers()).json() == {"scaStatus": "failed"}
    status = status_of(pis_client, payment_id)
    assert (status["transactionStatus"], status["psuMessage"][:4]) == ("RJCT", "NOAS")


def test_an_abandoned_sca_times_out_and_rejects_the_payment(pis_client, alice_current, bank_clock):
    payment_id = new_payment(pis_client, alice_current)
    started = pis_client.post(
        f"/v1/payments/{SCT}/{payment_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    link = started.json()["_links"]["scaStatus"]["href"]
    bank_clock.advance(minutes=11)
    assert pis_client.get(link, headers=headers()).json() == {"scaStatus": "failed"}
    assert status_of(pis_client, payment_id)["transactionStatus"] == "RJCT"


def test_the_authorisations_of_a_payment_are_listed(pis_client, alice_current):
    payment_id = new_payment(pis_client, alice_current)
    started = pis_client.post(
        f"/v1/payments/{SCT}/{payment_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    listed = pis_client.get(f"/v1/payments/{SCT}/{payment_id}/authorisations", headers=headers())
    assert listed.json() == {"authorisationIds": [started.json()["authorisationId"]]}
    second = pis_client.post(
        f"/v1/payments/{SCT}/{payment_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    assert (second.status_code, codes(second)) == (409, ["STATUS_INVALID"])


def test_a_received_payment_can_be_cancelled(pis_client, alice_current):
    payment_id = new_payment(pis_client, alice_current)
    response = pis_client.delete(f"/v1/payments/{SCT}/{payment_id}", headers=headers())
    assert response.status_code == 204
    assert status_of(pis_client, payment_id)["transactionStatus"] == "CANC"
    again = pis_client.delete(f"/v1/payments/{SCT}/{payment_id}", headers=headers())
    assert (again.status_code, codes(again)) == (409, ["STATUS_INVALID"])


def test_an_executed_payment_cannot_be_cancelled(pis_client, alice_current, bank_clock):
    payment_id = new_payment(pis_client, alice_current, "1.00", INSTANT)
    authorise_payment(pis_client, INSTANT, payment_id)
    response = pis_client.delete(f"/v1/payments/{INSTANT}/{payment_id}", headers=headers())
    assert (response.status_code, codes(response)) == (409, ["STATUS_INVALID"])
    bank_clock.advance(days=2)
    settled = pis_client.delete(
        f"/v1/payments/{SCT}/{new_settled(pis_client, alice_current, bank_clock)}",
        headers=headers(),
    )
    assert (settled.status_code, codes(settled)) == (409, ["STATUS_INVALID"])


def new_settled(client, account, clock):
    payment_id = new_payment(client, account, "0.50")
    authorise_payment(client, SCT, payment_id)
    clock.advance(days=1, seconds=1)
    assert status_of(client, payment_id)["transactionStatus"] == "ACSC"
    return payment_id


def test_a_tpp_without_the_pisp_role_is_refused_with_role_invalid(client_for, qtsp, alice_current):
    cert = issue_tpp(qtsp, "ais-only", (Psd2Role.PSP_AI,))
    response = initiate(client_for(cert.cert_path, cert.key_path), payment_body(alice_current.iban))
    assert (response.status_code, codes(response)) == (401, ["ROLE_INVALID"])


def test_another_tpps_payment_is_unknown(client_for, qtsp, pis_client, alice_current):
    payment_id = new_payment(pis_client, alice_current)
    other_org = OrganizationIdentifier("DE", "BAFIN", "999999")
    cert = issue_tpp(qtsp, "other-pis", (Psd2Role.PSP_PI,), org_id=other_org)
    other = client_for(cert.cert_path, cert.key_path)
    response = other.get(f"/v1/payments/{SCT}/{payment_id}", headers=headers())
    assert (response.status_code, codes(response)) == (404, ["RESOURCE_UNKNOWN"])


def test_a_payment_left_without_sca_beyond_the_timeout_is_rejected(
    pis_client, alice_current, bank_clock
):
    payment_id = new_payment(pis_client, alice_current)
    bank_clock.advance(minutes=9)
    assert status_of(pis_client, payment_id)["transactionStatus"] == "RCVD"
    bank_clock.advance(minutes=2)
    status = status_of(pis_client, payment_id)
    assert (status["transactionStatus"], status["psuMessage"][:4]) == ("RJCT", "NOAS")
    late = pis_client.post(
        f"/v1/payments/{SCT}/{payment_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    assert (late.status_code, codes(late)) == (409, ["STATUS_INVALID"])


def test_a_transfer_to_another_customer_of_the_bank_is_credited_when_it_settles(
    pis_client, alice_current, accounts_of, sandbox_bank, bank_clock
):
    bob = accounts_of("bob")[0]
    before = available(sandbox_bank, bob.resource_id)
    body = payment_body(alice_current.iban, "15.00", creditorAccount={"iban": bob.iban})
    response = initiate(pis_client, body, INSTANT)
    payment_id = response.json()["paymentId"]
    authorise_payment(pis_client, INSTANT, payment_id)
    assert available(sandbox_bank, bob.resource_id) == before
    bank_clock.advance(seconds=11)
    assert status_of(pis_client, payment_id, INSTANT)["transactionStatus"] == "ACCC"
    assert available(sandbox_bank, bob.resource_id) == before + 1500
    credit = [t for t in entries(sandbox_bank, bob.resource_id).values() if t.amount == 1500]
    assert [(t.status, t.counterparty_iban) for t in credit] == [("booked", alice_current.iban)]
