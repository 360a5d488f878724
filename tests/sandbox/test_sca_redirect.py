"""Redirect SCA over real TLS: the TPP gets `scaRedirect`, the PSU's browser logs in on the
bank's page, sees amount and payee, enters the OTP bound to them and is sent (303) back to the
TPP's redirect URI, or to its Nok URI on failure, cancel or timeout. Every TPP-facing answer is
checked against the spec; the pages are driven with plain HTTP here (see tests/browser)."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import update

from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.sca_flow import (
    NOK_URI,
    OK_URI,
    SCT,
    RunningBank,
    assert_embedded_step_refused,
    auth_id_of,
    initiate_payment,
    otp_for,
    page_path,
    payment_body,
    redirect_headers,
    run_bank,
    sca_status,
)
from twinrail.sandbox.bank.domain.authorisation import ScaPolicy
from twinrail.sandbox.bank.store.tables import payments


@pytest.fixture(scope="module")
def running(qtsp, tmp_path_factory, session_clock) -> Iterator[RunningBank]:
    yield from run_bank("sca-redirect", qtsp, tmp_path_factory, session_clock, ScaPolicy())


def redirect_payment(running: RunningBank, amount: str = "45.00", **header_extra: str) -> dict:
    return initiate_payment(running, redirect_headers(**header_extra), "REDIRECT", amount)


def log_in(running: RunningBank, path: str, psu_id: str = "alice", password: str = "alice-sandbox"):
    return running.psu.post(f"{path}/login", data={"psu_id": psu_id, "password": password})


def payment_status(running: RunningBank, payment_id: str) -> str:
    response = running.tpp.get(f"/v1/payments/{SCT}/{payment_id}/status", headers=headers())
    return str(response.json()["transactionStatus"])


def test_a_redirect_payment_offers_the_banks_login_page_and_an_sca_status_link(running):
    body = redirect_payment(running)
    assert body["transactionStatus"] == "RCVD" and body["scaStatus"] == "received"
    assert "startAuthorisationWithPsuAuthentication" not in body["_links"]
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "received"
    page = running.psu.get(page_path(body, running))
    assert page.status_code == 200 and 'name="password"' in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_the_psu_logs_in_sees_amount_and_payee_enters_the_otp_and_returns_to_the_tpp(running):
    body = redirect_payment(running, "45.10")
    path, status_link = page_path(body, running), body["_links"]["scaStatus"]["href"]
    assert log_in(running, path).status_code == 303
    assert sca_status(running.tpp, status_link) == "psuAuthenticated"
    review = running.psu.get(path)
    assert "EUR 45.10" in review.text and "Stadtwerke Musterstadt" in review.text
    assert running.psu.post(f"{path}/send-code").status_code == 303
    assert sca_status(running.tpp, status_link) == "scaMethodSelected"
    otp_page = running.psu.get(path)
    assert 'id="amount">EUR 45.10<' in otp_page.text
    assert "DE89370400440532013000" in otp_page.text
    done = running.psu.post(f"{path}/otp", data={"otp": otp_for(running, auth_id_of(body))})
    assert (done.status_code, done.headers["Location"]) == (303, OK_URI)
    assert sca_status(running.tpp, status_link) == "finalised"
    assert payment_status(running, body["paymentId"]) == "ACTC"


def test_a_wrong_otp_counts_attempts_and_the_third_sends_the_psu_to_the_nok_uri(running):
    body = redirect_payment(running)
    path = page_path(body, running)
    log_in(running, path)
    running.psu.post(f"{path}/send-code")
    first = running.psu.post(f"{path}/otp", data={"otp": "000000"})
    assert first.status_code == 401 and "2 attempt(s) left" in first.text
    running.psu.post(f"{path}/otp", data={"otp": "000001"})
    last = running.psu.post(f"{path}/otp", data={"otp": "000002"})
    assert (last.status_code, last.headers["Location"]) == (303, NOK_URI)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"
    assert payment_status(running, body["paymentId"]) == "RJCT"


def test_wrong_credentials_three_times_fail_the_sca(running):
    body = redirect_payment(running)
    path = page_path(body, running)
    assert log_in(running, path, password="nope").status_code == 401
    assert log_in(running, path, psu_id="nobody").status_code == 401
    last = log_in(running, path, password="still-wrong")
    assert (last.status_code, last.headers["Location"]) == (303, NOK_URI)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"


def test_the_otp_is_bound_to_amount_and_payee(running):
    """Dynamic linking: the code shown for the payment is refused once its amount or payee
    changed behind the PSU's back, and the code of another payment is refused too."""
    body, other = redirect_payment(running, "45.00"), redirect_payment(running, "45.00")
    path, other_path = page_path(body, running), page_path(other, running)
    for each in (path, other_path):
        log_in(running, each)
        running.psu.post(f"{each}/send-code")
    shown = otp_for(running, auth_id_of(body))
    refused = running.psu.post(f"{path}/otp", data={"otp": otp_for(running, auth_id_of(other))})
    assert refused.status_code == 401
    with running.bank.service.engine.begin() as conn:  # a man in the middle raises the amount
        conn.execute(
            update(payments).where(payments.c.payment_id == body["paymentId"]).values(amount=9900)
        )
    assert otp_for(running, auth_id_of(body)) != shown
    assert running.psu.post(f"{path}/otp", data={"otp": shown}).status_code == 401
    with running.bank.service.engine.begin() as conn:  # ... or changes the payee
        conn.execute(
            update(payments)
            .where(payments.c.payment_id == body["paymentId"])
            .values(amount=4500, creditor_name="Mallory")
        )
    last = running.psu.post(f"{path}/otp", data={"otp": shown})
    assert last.headers["Location"] == NOK_URI


def test_cancel_on_the_banks_page_sends_the_psu_to_the_nok_uri(running):
    body = redirect_payment(running)
    cancelled = running.psu.post(f"{page_path(body, running)}/cancel")
    assert (cancelled.status_code, cancelled.headers["Location"]) == (303, NOK_URI)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"
    assert payment_status(running, body["paymentId"]) == "RJCT"


def test_without_a_nok_uri_a_failure_returns_to_the_redirect_uri(running):
    body = redirect_payment(running, nok=False)
    cancelled = running.psu.post(f"{page_path(body, running)}/cancel")
    assert cancelled.headers["Location"] == OK_URI


def test_an_abandoned_redirect_sca_times_out_in_sandbox_time(running, bank_clock):
    body = redirect_payment(running)
    path = page_path(body, running)
    log_in(running, path)
    bank_clock.advance(minutes=11)
    late = running.psu.post(f"{path}/send-code")
    assert (late.status_code, late.headers["Location"]) == (303, NOK_URI)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"
    assert payment_status(running, body["paymentId"]) == "RJCT"


def test_the_tpp_polling_alone_sees_an_abandoned_sca_fail(running, bank_clock):
    body = redirect_payment(running)
    bank_clock.advance(minutes=11)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"


def count_payments(running: RunningBank) -> int:
    with running.bank.service.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM payments").scalar() or 0)


def test_a_redirect_without_tpp_redirect_uri_is_a_format_error_and_stores_nothing(running):
    iban = running.alice_current().iban
    before = count_payments(running)
    response = running.tpp.post(
        f"/v1/payments/{SCT}", json=payment_body(iban),
        headers=headers(PSU_IP_Address=PSU_IP, TPP_Redirect_Preferred="true"),
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"
    assert count_payments(running) == before


def test_embedded_steps_on_a_redirect_authorisation_are_service_invalid(running):
    body = redirect_payment(running)
    assert_embedded_step_refused(running, body["_links"]["scaStatus"]["href"])


def test_a_psu_id_given_by_the_tpp_identifies_the_psu_and_must_log_in(running):
    body = redirect_payment(running, PSU_ID="alice")
    assert body["scaStatus"] == "psuIdentified"
    page = running.psu.get(page_path(body, running))
    assert 'value="alice"' in page.text
    assert log_in(running, page_path(body, running), psu_id="bob", password="bob-sandbox")\
        .status_code == 401  # fmt: skip


def test_a_consent_is_authorised_through_the_redirect_pages(running):
    iban = running.alice_current().iban
    refs = [{"iban": iban}]
    response = running.tpp.post(
        "/v1/consents",
        json={"access": {"accounts": refs, "balances": refs}, "recurringIndicator": True,
              "validUntil": "2099-01-01", "frequencyPerDay": 4},
        headers=redirect_headers(),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ASPSP-SCA-Approach"] == "REDIRECT"
    path = page_path(body, running)
    log_in(running, path)
    running.psu.post(f"{path}/send-code")
    otp_page = running.psu.get(path)
    assert iban in otp_page.text
    done = running.psu.post(f"{path}/otp", data={"otp": otp_for(running, auth_id_of(body))})
    assert done.headers["Location"] == OK_URI
    status = running.tpp.get(f"/v1/consents/{body['consentId']}/status", headers=headers())
    assert status.json()["consentStatus"] == "valid"


def test_a_payment_cancellation_is_authorised_through_the_redirect_pages(running):
    from tests.sandbox.pis_flow import authorise_payment

    iban = running.alice_current().iban
    created = running.tpp.post(
        f"/v1/payments/{SCT}",
        json=payment_body(iban, "61.00"),
        headers=headers(PSU_IP_Address=PSU_IP),
    ).json()
    payment_id = created["paymentId"]
    assert authorise_payment(running.tpp, SCT, payment_id).json()["scaStatus"] == "finalised"
    assert (
        running.tpp.delete(f"/v1/payments/{SCT}/{payment_id}", headers=headers()).status_code == 202
    )
    started = running.tpp.post(
        f"/v1/payments/{SCT}/{payment_id}/cancellation-authorisations", headers=redirect_headers()
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["scaStatus"] == "received" and started.headers["ASPSP-SCA-Approach"] == "REDIRECT"
    path = page_path(body, running)
    log_in(running, path)
    running.psu.post(f"{path}/send-code")
    assert "Cancel the payment of" in running.psu.get(path).text
    done = running.psu.post(f"{path}/otp", data={"otp": otp_for(running, body["authorisationId"])})
    assert done.headers["Location"] == OK_URI
    assert payment_status(running, payment_id) == "CANC"


def test_the_sandbox_phone_shows_the_code_with_amount_and_payee(running):
    body = redirect_payment(running, "45.20")
    path = page_path(body, running)
    log_in(running, path)
    running.psu.post(f"{path}/send-code")
    phone = running.psu.get("/psu/phone/alice")
    assert otp_for(running, auth_id_of(body)) in phone.text
    assert "EUR 45.20 to Stadtwerke Musterstadt" in phone.text


def test_only_the_browser_that_logged_in_can_continue_the_sca(running, qtsp):
    body = redirect_payment(running)
    path = page_path(body, running)
    log_in(running, path)
    tls = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
    with httpx.Client(base_url=running.psu_url, verify=tls, timeout=10) as stranger:
        refused = stranger.post(f"{path}/send-code")
        assert refused.status_code == 401 and "log in again" in refused.text
        assert stranger.post(f"{path}/otp", data={"otp": "000000"}).status_code == 401
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "psuAuthenticated"
    assert running.psu.post(f"{path}/send-code").status_code == 303


def test_without_the_sandbox_phone_the_codes_are_not_served(running):
    from twinrail.sandbox.bank.http.sca_pages import create_psu_app

    app = create_psu_app(running.pages, show_sandbox_phone=False)

    async def get(path: str) -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bank") as pages:
            return (await pages.get(path)).status_code

    # A thread of its own: Playwright's sync API may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, get("/psu/phone/alice")).result() == 404
        assert pool.submit(asyncio.run, get("/psu/app/alice")).result() == 200


def test_no_code_or_password_reaches_the_logs(running, caplog):
    caplog.set_level(logging.DEBUG)
    body = redirect_payment(running, "45.30")
    path = page_path(body, running)
    log_in(running, path)
    running.psu.post(f"{path}/send-code")
    code = otp_for(running, auth_id_of(body))
    running.psu.post(f"{path}/otp", data={"otp": "999999" if code != "999999" else "999998"})
    running.psu.post(f"{path}/otp", data={"otp": code})
    assert code not in caplog.text and "alice-sandbox" not in caplog.text


@pytest.mark.parametrize(
    ("name", "value"),
    [("TPP-Redirect-URI", "not a uri"), ("TPP-Redirect-URI", "http://[::1"),
     ("TPP-Nok-Redirect-URI", "ftp://tpp.example/x"), ("TPP-Redirect-Preferred", "yes"),
     ("TPP-Decoupled-Preferred", "1")],
)  # fmt: skip
def test_malformed_sca_headers_are_format_errors(running, name, value):
    iban = running.alice_current().iban
    sent = {**redirect_headers(), name: value}
    response = running.tpp.post(f"/v1/payments/{SCT}", json=payment_body(iban), headers=sent)
    assert response.status_code == 400
    assert response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"


def test_pages_of_an_unknown_authorisation_are_not_found(running):
    assert running.psu.get("/psu/sca/auth-nope").status_code == 404
    assert running.psu.post("/psu/sca/auth-nope/otp", data={"otp": "1"}).status_code == 404
    assert running.psu.post("/psu/app/alice/auth-nope/approve").status_code == 404
