"""A bank offering every SCA approach, with its PSU pages served on their own TLS port, and the
steps a TPP and a PSU's browser take through redirect and decoupled SCA (shared by the SCA tests
here and the browser tests). Import the fixtures into a test module to use them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.conftest import PSU_IP, ShiftableClock, headers
from tests.sandbox.spec_validation import validate_exchange
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.openbanking.service.sandbox_qtsp import SandboxQtsp
from twinrail.sandbox.bank.domain.authorisation import ScaPolicy
from twinrail.sandbox.bank.domain.dynamic_linking import linked_otp
from twinrail.sandbox.bank.runtime import SandboxBank, build_bank
from twinrail.sandbox.bank.service.psu_sca_service import PsuScaService

__all__ = [
    "RunningBank",
    "run_bank",
    "OK_URI",
    "NOK_URI",
    "SCT",
    "CREDITOR_IBAN",
    "redirect_headers",
    "decoupled_headers",
    "payment_body",
    "otp_for",
    "sca_status",
    "initiate_payment",
    "page_path",
    "auth_id_of",
    "assert_embedded_step_refused",
]

OK_URI = "https://tpp.example/sca/ok?state=s1"
NOK_URI = "https://tpp.example/sca/nok?state=s1"
SCT = "sepa-credit-transfers"
CREDITOR_IBAN = "DE89370400440532013000"
PASSWORDS = {"alice": "alice-sandbox", "bob": "bob-sandbox", "carol": "carol-sandbox"}


@dataclass
class RunningBank:
    """A bank served over mTLS (TPP API) and TLS (PSU pages), with clients for both sides."""

    bank: SandboxBank
    tpp: httpx.Client  # a QWAC with every role; answers checked against the spec
    psu: httpx.Client  # a browser-like client of the PSU pages (no client certificate)
    psu_url: str
    api_url: str

    @property
    def pages(self) -> PsuScaService:
        return PsuScaService(self.bank.service, self.bank.app.state.payments)

    def alice_current(self) -> Any:
        from twinrail.sandbox.bank.store.bank_store import BankStore

        with self.bank.service.engine.connect() as conn, conn.begin():
            accounts = BankStore(conn).accounts_of("alice")
        return next(a for a in accounts if a.cash_account_type == "CACC")


def run_bank(
    name: str,
    qtsp: SandboxQtsp,
    tmp_path_factory: pytest.TempPathFactory,
    clock: ShiftableClock,
    policy: ScaPolicy,
) -> Iterator[RunningBank]:
    """Build, serve and finally stop a bank with `policy`."""
    url = f"sqlite:///{tmp_path_factory.mktemp(name)}/bank.db"
    bank = build_bank(
        name, database_url=url, pki_dir=qtsp.directory, clock=clock, sca_policy=policy
    )
    api = bank.server("127.0.0.1", 0)
    api_port = api.start_in_thread()
    pages = bank.start_psu_pages("127.0.0.1", 0)
    psu_url = bank.app.state.psu_base_url
    cert = issue_tpp(qtsp, f"{name}-tpp", (Psd2Role.PSP_AI, Psd2Role.PSP_PI))
    context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
    context.load_cert_chain(str(cert.cert_path), str(cert.key_path))
    api_url = f"https://127.0.0.1:{api_port}"
    tpp = httpx.Client(
        base_url=api_url, verify=context, timeout=10,
        event_hooks={"response": [validate_exchange]},
    )  # fmt: skip
    browser_tls = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
    psu = httpx.Client(base_url=psu_url, verify=browser_tls, timeout=10)
    try:
        yield RunningBank(bank, tpp, psu, psu_url, api_url)
    finally:
        tpp.close()
        psu.close()
        pages.stop()
        api.stop()


def redirect_headers(nok: bool = True, **extra: str) -> dict[str, str]:
    """Headers of a TPP asking for the redirect approach."""
    more = {"TPP_Redirect_Preferred": "true", "TPP_Redirect_URI": OK_URI, "PSU_IP_Address": PSU_IP}
    if nok:
        more["TPP_Nok_Redirect_URI"] = NOK_URI
    return headers(**{**more, **extra})


def decoupled_headers(**extra: str) -> dict[str, str]:
    """Headers of a TPP asking for the decoupled approach."""
    more = {"TPP_Redirect_Preferred": "false", "TPP_Decoupled_Preferred": "true"}
    return headers(PSU_IP_Address=PSU_IP, **{**more, **extra})


def payment_body(debtor_iban: str, amount: str = "45.00", **extra: Any) -> dict[str, Any]:
    """A SEPA credit transfer to the fixed creditor."""
    return {
        "debtorAccount": {"iban": debtor_iban},
        "instructedAmount": {"currency": "EUR", "amount": amount},
        "creditorAccount": {"iban": extra.pop("creditor_iban", CREDITOR_IBAN)},
        "creditorName": extra.pop("creditor_name", "Stadtwerke Musterstadt"),
        "remittanceInformationUnstructured": "Invoice 42",
        **extra,
    }


def otp_for(running: RunningBank, authorisation_id: str) -> str:
    """The SMS code of this authorisation, as the PSU's phone would show it."""
    return running.pages.sandbox_otp(authorisation_id)


def sca_status(client: httpx.Client, status_link: str) -> str:
    """GET the scaStatus link (the TPP polling)."""
    response = client.get(status_link, headers=headers())
    assert response.status_code == 200, response.text
    return str(response.json()["scaStatus"])


def initiate_payment(
    running: RunningBank, sent: dict[str, str], approach: str, amount: str = "45.00"
) -> dict[str, Any]:
    """POST a single payment of alice's with the TPP's SCA headers; the bank must choose
    `approach`. The 201 body."""
    body = payment_body(running.alice_current().iban, amount)
    response = running.tpp.post(f"/v1/payments/{SCT}", json=body, headers=sent)
    assert response.status_code == 201, response.text
    assert response.headers["ASPSP-SCA-Approach"] == approach
    return dict(response.json())


def page_path(body: dict[str, Any], running: RunningBank) -> str:
    """The path of the bank's SCA page the scaRedirect link of `body` leads to."""
    link = body["_links"]["scaRedirect"]["href"]
    assert link.startswith(running.psu_url + "/psu/sca/")
    return str(link.removeprefix(running.psu_url))


def auth_id_of(body: dict[str, Any]) -> str:
    """The authorisation id at the end of the scaStatus link of `body`."""
    return str(body["_links"]["scaStatus"]["href"].rsplit("/", 1)[1])


def assert_embedded_step_refused(running: RunningBank, status_link: str) -> None:
    """An embedded step (PUT with a password) on a redirect authorisation is SERVICE_INVALID."""
    response = running.tpp.put(
        status_link,
        json={"psuData": {"password": "alice-sandbox"}},
        headers=headers(PSU_ID="alice"),
    )
    assert response.status_code == 405
    assert response.json()["tppMessages"][0]["code"] == "SERVICE_INVALID"


def expected_otp(secret: str, authorisation_id: str, challenge: Any) -> str:
    """The code computed from the seed's OTP secret, independently of the bank's service."""
    return linked_otp(secret, authorisation_id, challenge)
