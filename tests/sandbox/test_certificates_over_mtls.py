"""The bank checks the QWAC of every request over real mutual TLS and answers in `tppMessages`."""

from __future__ import annotations

import datetime as dt
import socket
import ssl

import httpx
import pytest
from cryptography import x509

from tests.openbanking.pki_builders import issue_tpp, new_qtsp, self_signed_qwac
from tests.sandbox.conftest import headers
from twinrail.openbanking.domain.psd2 import Psd2Role


def codes(response: httpx.Response) -> list[str]:
    return [m["code"] for m in response.json()["tppMessages"]]


def get_accounts(client: httpx.Client) -> httpx.Response:
    return client.get("/v1/accounts", headers=headers(Consent_ID="cns-none"))


def test_a_valid_qwac_with_the_ais_role_passes_the_certificate_checks(ais_client):
    # Past the certificate checks, the unknown consent is what the bank complains about.
    response = get_accounts(ais_client)
    assert (response.status_code, codes(response)) == (403, ["CONSENT_UNKNOWN"])


def test_a_qwac_without_psp_ai_is_role_invalid_for_ais(client_for, qtsp):
    cert = issue_tpp(qtsp, "pis-only", (Psd2Role.PSP_PI, Psd2Role.PSP_IC))
    response = get_accounts(client_for(cert.cert_path, cert.key_path))
    assert (response.status_code, codes(response)) == (401, ["ROLE_INVALID"])


def test_an_expired_qwac_is_certificate_expired(client_for, qtsp):
    cert = issue_tpp(
        qtsp, "expired", not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=10), validity_days=5
    )
    response = get_accounts(client_for(cert.cert_path, cert.key_path))
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_EXPIRED"])


def test_a_qwac_expires_by_sandbox_time(client_for, qtsp, bank_clock):
    cert = issue_tpp(qtsp, "short-lived", validity_days=3)
    client = client_for(cert.cert_path, cert.key_path)
    assert codes(get_accounts(client)) == ["CONSENT_UNKNOWN"]
    bank_clock.advance(days=4)
    assert codes(get_accounts(client)) == ["CERTIFICATE_EXPIRED"]


def test_a_revoked_qwac_is_refused_as_soon_as_the_qtsp_publishes_its_crl(client_for, qtsp):
    cert = issue_tpp(qtsp, "to-revoke")
    client = client_for(cert.cert_path, cert.key_path)
    assert codes(get_accounts(client)) == ["CONSENT_UNKNOWN"]
    qtsp.revoke("to-revoke", reason="keyCompromise")
    response = get_accounts(client)
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_REVOKED"])


def test_a_certificate_without_the_psd2_qcstatement_is_certificate_invalid(client_for, qtsp):
    cert = issue_tpp(qtsp, "no-qcs", qc_statement=False)
    response = get_accounts(client_for(cert.cert_path, cert.key_path))
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_INVALID"])


def test_a_qsealc_presented_for_tls_is_certificate_invalid(client_for, qtsp):
    seal = issue_tpp(qtsp, "seal-as-tls", kind="qsealc")
    response = get_accounts(client_for(seal.cert_path, seal.key_path))
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_INVALID"])


def raw_exchange(bank_url: str, qtsp, cert=None, key=None) -> bytes:
    """What a bare TLS client gets back for one request; b"" when the bank ends the connection.

    With TLS 1.3 the server judges the client certificate after the client has finished its
    side of the handshake, so a refusal shows on the first read. (asyncio closes the connection
    without flushing the alert, so clients see an EOF rather than `unknown_ca`.)
    """
    host, port = bank_url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key))
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            try:
                tls.sendall(b"GET /v1/accounts HTTP/1.1\r\nHost: bank\r\n\r\n")
                return tls.recv(1024)
            except (ssl.SSLError, ConnectionError):
                return b""


def test_the_raw_probe_gets_an_http_answer_with_a_valid_qwac(bank_url, qtsp):
    cert = issue_tpp(qtsp, "probe")
    assert raw_exchange(bank_url, qtsp, cert.cert_path, cert.key_path).startswith(b"HTTP/1.1 400")


def test_a_self_signed_certificate_is_refused_in_the_tls_handshake(bank_url, qtsp, tmp_path):
    cert, key = self_signed_qwac(tmp_path)
    assert raw_exchange(bank_url, qtsp, cert, key) == b""


def test_a_certificate_of_another_qtsp_is_refused_in_the_tls_handshake(bank_url, qtsp, tmp_path):
    other = new_qtsp(tmp_path / "other-qtsp")
    cert = issue_tpp(other, "foreign")
    assert raw_exchange(bank_url, qtsp, cert.cert_path, cert.key_path) == b""


def test_a_client_without_any_certificate_is_refused_in_the_tls_handshake(bank_url, qtsp):
    assert raw_exchange(bank_url, qtsp) == b""


def test_a_failed_handshake_never_reaches_the_application(client_for, tmp_path):
    cert, key = self_signed_qwac(tmp_path)
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        get_accounts(client_for(cert, key, validate=False))


def test_the_bank_serves_a_certificate_from_the_sandbox_qtsp(bank_url, qtsp):
    with pytest.raises(httpx.ConnectError):  # unknown to the system's trust store
        httpx.get(f"{bank_url}/v1/accounts", verify=ssl.create_default_context(), timeout=5)
    host, port = bank_url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    server = x509.load_der_x509_certificate(der)
    server.verify_directly_issued_by(qtsp.trust().issuing_cas[0])
