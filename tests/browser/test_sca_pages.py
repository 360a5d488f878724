"""Redirect and decoupled SCA in a real browser (chromium through Playwright): the PSU logs in
on the bank's page, sees amount and payee, reads the code on the sandbox phone, enters it and
lands on the TPP's redirect URI (a small local HTTP receiver); failures land on the Nok URI;
decoupled approvals are given in the banking-app page while the test polls over mutual TLS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.sca_flow import (
    SCT,
    RunningBank,
    decoupled_headers,
    payment_body,
    run_bank,
    sca_status,
)
from twinrail.sandbox.bank.domain.authorisation import ScaPolicy


class TppReceiver:
    """The TPP's redirect endpoint: records the paths the PSU's browser came back to."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                hits.append(self.path)
                body = f"<h1 id='tpp'>TPP received {self.path}</h1>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def running(qtsp, tmp_path_factory, session_clock) -> Iterator[RunningBank]:
    yield from run_bank("browser", qtsp, tmp_path_factory, session_clock, ScaPolicy())


@pytest.fixture(scope="module")
def tpp_receiver() -> Iterator[TppReceiver]:
    receiver = TppReceiver()
    yield receiver
    receiver.close()


def start_redirect(running, receiver, path="/v1/payments/" + SCT, body=None, amount="47.11"):
    iban = running.alice_current().iban
    response = running.tpp.post(
        path, json=body or payment_body(iban, amount),
        headers=headers(PSU_IP_Address=PSU_IP, TPP_Redirect_Preferred="true",
                        TPP_Redirect_URI=f"{receiver.url}/ok",
                        TPP_Nok_Redirect_URI=f"{receiver.url}/nok"),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def log_in(page, link, password="alice-sandbox"):
    page.goto(link)
    page.fill("#psu_id", "alice")
    page.fill("#password", password)
    page.click("#login")


def read_code_on_the_phone(page, running, authorisation_id) -> str:
    phone = page.context.new_page()
    phone.goto(f"{running.psu_url}/psu/phone/alice")
    code = phone.inner_text(f"li[data-authorisation='{authorisation_id}'] .otp")
    phone.close()
    return code


def test_a_payment_redirect_sca_end_to_end_in_chromium(page, running, tpp_receiver):
    body = start_redirect(running, tpp_receiver)
    auth_id = body["_links"]["scaStatus"]["href"].rsplit("/", 1)[1]
    log_in(page, body["_links"]["scaRedirect"]["href"])
    page.click("#send-code")
    assert page.inner_text("#amount") == "EUR 47.11"
    assert page.inner_text("#payee") == "Stadtwerke Musterstadt"
    page.fill("#otp", read_code_on_the_phone(page, running, auth_id))
    page.click("#confirm")
    page.wait_for_url(f"{tpp_receiver.url}/ok")
    assert "TPP received /ok" in page.inner_text("#tpp")
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "finalised"


def test_a_consent_redirect_sca_in_chromium(page, running, tpp_receiver):
    iban = running.alice_current().iban
    consent = {"access": {"accounts": [{"iban": iban}]}, "recurringIndicator": True,
               "validUntil": "2099-01-01", "frequencyPerDay": 4}  # fmt: skip
    body = start_redirect(running, tpp_receiver, "/v1/consents", consent)
    auth_id = body["_links"]["scaStatus"]["href"].rsplit("/", 1)[1]
    log_in(page, body["_links"]["scaRedirect"]["href"])
    page.click("#send-code")
    assert iban in page.inner_text("#accounts")
    page.fill("#otp", read_code_on_the_phone(page, running, auth_id))
    page.click("#confirm")
    page.wait_for_url(f"{tpp_receiver.url}/ok")
    status = running.tpp.get(f"/v1/consents/{body['consentId']}/status", headers=headers())
    assert status.json()["consentStatus"] == "valid"


def test_wrong_otps_show_the_attempts_left_then_land_on_the_nok_uri(page, running, tpp_receiver):
    body = start_redirect(running, tpp_receiver)
    log_in(page, body["_links"]["scaRedirect"]["href"])
    page.click("#send-code")
    page.fill("#otp", "000000")
    page.click("#confirm")
    assert "2 attempt(s) left" in page.inner_text("[role=alert]")
    for wrong in ("000001", "000002"):
        page.fill("#otp", wrong)
        page.click("#confirm")
    page.wait_for_url(f"{tpp_receiver.url}/nok")
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"


def test_cancel_lands_on_the_nok_uri(page, running, tpp_receiver):
    body = start_redirect(running, tpp_receiver)
    log_in(page, body["_links"]["scaRedirect"]["href"])
    page.click("#cancel")
    page.wait_for_url(f"{tpp_receiver.url}/nok")
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"


def test_a_timed_out_sca_lands_on_the_nok_uri(page, running, tpp_receiver, bank_clock):
    body = start_redirect(running, tpp_receiver)
    log_in(page, body["_links"]["scaRedirect"]["href"])
    bank_clock.advance(minutes=11)
    page.click("#send-code")
    page.wait_for_url(f"{tpp_receiver.url}/nok")
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"


@pytest.mark.parametrize(("button", "expected"), [("Approve", "finalised"), ("Reject", "failed")])
def test_a_decoupled_sca_is_decided_in_the_banking_app(page, running, button, expected):
    iban = running.alice_current().iban
    body = running.tpp.post(
        f"/v1/payments/{SCT}", json=payment_body(iban, "58.40"), headers=decoupled_headers()
    ).json()
    link = body["_links"]["scaStatus"]["href"]
    auth_id = link.rsplit("/", 1)[1]
    assert sca_status(running.tpp, link) == "started"
    page.goto(f"{running.psu_url}/psu/app/alice")
    item = page.locator(f"li[data-authorisation='{auth_id}']")
    assert item.locator("#amount").inner_text() == "EUR 58.40"
    assert item.locator("#payee").inner_text() == "Stadtwerke Musterstadt"
    item.get_by_role("button", name=button).click()
    page.wait_for_selector("#notice")
    assert sca_status(running.tpp, link) == expected
    assert page.locator(f"li[data-authorisation='{auth_id}']").count() == 0
