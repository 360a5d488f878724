"""A standing order authorised through the redirect SCA in a real browser (chromium through
Playwright): the PSU logs in, sees amount, payee and schedule, reads the code on the sandbox
phone, enters it and lands on the TPP's redirect URI; the order then runs (ACTC)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.browser.test_sca_pages import TppReceiver
from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.sca_flow import SCT, RunningBank, payment_body, run_bank, sca_status
from twinrail.sandbox.bank.domain.authorisation import ScaPolicy


@pytest.fixture(scope="module")
def running(qtsp, tmp_path_factory, session_clock) -> Iterator[RunningBank]:
    yield from run_bank("browser-periodic", qtsp, tmp_path_factory, session_clock, ScaPolicy())


@pytest.fixture(scope="module")
def tpp_receiver() -> Iterator[TppReceiver]:
    receiver = TppReceiver()
    yield receiver
    receiver.close()


def test_a_standing_order_redirect_sca_end_to_end_in_chromium(page, running, tpp_receiver):
    start = running.bank.service.clock().date().isoformat()
    order = payment_body(running.alice_current().iban, "64.20", creditor_name="Landlord GmbH")
    order.update(
        endToEndIdentification=f"SPO-{uuid.uuid4().hex[:12]}", frequency="Monthly",
        startDate=start, dayOfExecution="28",
    )  # fmt: skip
    created = running.tpp.post(
        f"/v1/periodic-payments/{SCT}", json=order,
        headers=headers(PSU_IP_Address=PSU_IP, TPP_Redirect_Preferred="true",
                        TPP_Redirect_URI=f"{tpp_receiver.url}/ok",
                        TPP_Nok_Redirect_URI=f"{tpp_receiver.url}/nok"),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    link = body["_links"]["scaStatus"]["href"]
    auth_id = link.rsplit("/", 1)[1]

    page.goto(body["_links"]["scaRedirect"]["href"])
    page.fill("#psu_id", "alice")
    page.fill("#password", "alice-sandbox")
    page.click("#login")
    page.click("#send-code")
    assert page.inner_text("#amount") == "EUR 64.20"
    assert page.inner_text("#payee") == "Landlord GmbH"
    assert page.inner_text("#frequency") == "Monthly"
    assert page.inner_text("#start-date") == start
    assert page.inner_text("#day-of-execution") == "28"

    phone = page.context.new_page()
    phone.goto(f"{running.psu_url}/psu/phone/alice")
    sms = phone.locator(f"li[data-authorisation='{auth_id}']")
    assert f"Monthly from {start}" in sms.inner_text()
    code = sms.locator(".otp").inner_text()
    phone.close()

    page.fill("#otp", code)
    page.click("#confirm")
    page.wait_for_url(f"{tpp_receiver.url}/ok")
    assert "TPP received /ok" in page.inner_text("#tpp")
    assert sca_status(running.tpp, link) == "finalised"
    status = running.tpp.get(
        f"/v1/periodic-payments/{SCT}/{body['paymentId']}/status", headers=headers()
    )
    assert status.json()["transactionStatus"] == "ACTC"
