"""Decoupled SCA: the bank pushes the approval to the PSU's banking app (a page listing what
waits, with amount and payee), the PSU approves or rejects there, and the TPP polls scaStatus
over mutual TLS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.conftest import headers
from tests.sandbox.sca_flow import (
    SCT,
    RunningBank,
    auth_id_of,
    decoupled_headers,
    initiate_payment,
    run_bank,
    sca_status,
)
from twinrail.sandbox.bank.domain.authorisation import ScaPolicy


@pytest.fixture(scope="module")
def running(qtsp, tmp_path_factory, session_clock) -> Iterator[RunningBank]:
    yield from run_bank("sca-decoupled", qtsp, tmp_path_factory, session_clock, ScaPolicy())


def decoupled_payment(running: RunningBank, amount: str = "52.00") -> dict:
    return initiate_payment(running, decoupled_headers(), "DECOUPLED", amount)


def payment_status(running: RunningBank, payment_id: str) -> str:
    response = running.tpp.get(f"/v1/payments/{SCT}/{payment_id}/status", headers=headers())
    return str(response.json()["transactionStatus"])


def test_a_decoupled_payment_is_pushed_to_the_psus_app_with_amount_and_payee(running):
    body = decoupled_payment(running, "52.30")
    assert body["scaStatus"] == "started" and body["psuMessage"]
    assert "scaRedirect" not in body["_links"]
    app = running.psu.get("/psu/app/alice")
    assert auth_id_of(body) in app.text
    assert "EUR 52.30" in app.text and "Stadtwerke Musterstadt" in app.text
    assert auth_id_of(body) not in running.psu.get("/psu/app/bob").text


def test_the_psu_approves_in_the_app_and_the_polling_tpp_sees_finalised(running):
    body = decoupled_payment(running)
    link = body["_links"]["scaStatus"]["href"]
    assert sca_status(running.tpp, link) == "started"
    approved = running.psu.post(f"/psu/app/alice/{auth_id_of(body)}/approve")
    assert approved.status_code == 303
    assert sca_status(running.tpp, link) == "finalised"
    assert payment_status(running, body["paymentId"]) == "ACTC"
    assert auth_id_of(body) not in running.psu.get("/psu/app/alice").text


def test_the_psu_rejects_in_the_app_and_the_payment_is_rejected(running):
    body = decoupled_payment(running)
    assert running.psu.post(f"/psu/app/alice/{auth_id_of(body)}/reject").status_code == 303
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"
    assert payment_status(running, body["paymentId"]) == "RJCT"


def test_another_psu_cannot_approve(running):
    body = decoupled_payment(running)
    refused = running.psu.post(f"/psu/app/bob/{auth_id_of(body)}/approve")
    assert refused.status_code == 409
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "started"


def test_an_unanswered_approval_times_out(running, bank_clock):
    body = decoupled_payment(running)
    bank_clock.advance(minutes=11)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"
    assert payment_status(running, body["paymentId"]) == "RJCT"
    assert auth_id_of(body) not in running.psu.get("/psu/app/alice").text
    late = running.psu.post(f"/psu/app/alice/{auth_id_of(body)}/approve")
    assert late.status_code == 409 and "ended" in late.text
    assert payment_status(running, body["paymentId"]) == "RJCT"


def test_an_explicit_decoupled_start_on_a_consent_is_approved_in_the_app(running):
    iban = running.alice_current().iban
    refs = [{"iban": iban}]
    created = running.tpp.post(
        "/v1/consents",
        json={"access": {"accounts": refs}, "recurringIndicator": False,
              "validUntil": "2099-01-01", "frequencyPerDay": 1},
        headers=headers(PSU_IP_Address="192.0.2.10"),
    ).json()  # fmt: skip
    started = running.tpp.post(
        f"/v1/consents/{created['consentId']}/authorisations", headers=decoupled_headers()
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["scaStatus"] == "started" and "psuMessage" in body
    assert iban in running.psu.get("/psu/app/alice").text
    running.psu.post(f"/psu/app/alice/{body['authorisationId']}/approve")
    status = running.tpp.get(f"/v1/consents/{created['consentId']}/status", headers=headers())
    assert status.json()["consentStatus"] == "valid"


def test_a_decoupled_consent_for_no_known_psu_is_refused_and_not_stored(running):
    def consents() -> int:
        with running.bank.service.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM consents").scalar() or 0)

    before = consents()
    response = running.tpp.post(
        "/v1/consents",
        json={"access": {"allPsd2": "allAccounts"}, "recurringIndicator": True,
              "validUntil": "2099-01-01", "frequencyPerDay": 4},
        headers=decoupled_headers(),
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"
    assert consents() == before


def test_a_decoupled_consent_names_its_psu_and_waits_in_that_psus_app(running):
    response = running.tpp.post(
        "/v1/consents",
        json={"access": {"allPsd2": "allAccounts"}, "recurringIndicator": True,
              "validUntil": "2099-01-01", "frequencyPerDay": 4},
        headers=decoupled_headers(PSU_ID="bob"),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["scaStatus"] == "started"
    assert auth_id_of(body) in running.psu.get("/psu/app/bob").text
    assert "all your payment accounts" in running.psu.get("/psu/app/bob").text
