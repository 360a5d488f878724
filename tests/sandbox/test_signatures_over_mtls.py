"""A bank whose profile requires message signatures, over real mutual TLS: signed requests pass,
every kind of faulty signature or QSealC is refused with the Berlin Group code."""

from __future__ import annotations

import json

import pytest

from tests.openbanking.pki_builders import issue_tpp, new_qtsp
from tests.sandbox.ais_flow import authorise_consent, consent_body, create_consent
from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.profile_banks import running_bank
from twinrail.openbanking.domain.psd2 import OrganizationIdentifier, Psd2Role
from twinrail.openbanking.service.request_signer import RequestSigner
from twinrail.sandbox.bank.profile import BankProfile

ROLES = (Psd2Role.PSP_AI, Psd2Role.PSP_PI)


def codes(response):
    return [m["code"] for m in response.json()["tppMessages"]]


@pytest.fixture(scope="module")
def strict_bank(qtsp, session_clock, tmp_path_factory):
    profile = BankProfile(name="sig-strict", signatures_required=True)
    with running_bank(profile, qtsp, tmp_path_factory.mktemp("strict"), session_clock) as bank:
        yield bank


@pytest.fixture(scope="module")
def qwac(qtsp):
    return issue_tpp(qtsp, "sig-qwac", ROLES)


@pytest.fixture(scope="module")
def seal(qtsp):
    return issue_tpp(qtsp, "sig-seal", ROLES, kind="qsealc", key_type="rsa")


@pytest.fixture(scope="module")
def signed_client(strict_bank, qwac, seal):
    return strict_bank.client(qwac, auth=RequestSigner.from_issued(seal).auth())


@pytest.fixture(scope="module")
def plain_client(strict_bank, qwac):
    return strict_bank.client(qwac)


def post_consent(client, signer, *, body=None, sent_body=None, drop=(), **overrides):
    """POST /v1/consents signed by `signer`, optionally sending other bytes or headers."""
    raw = json.dumps(body or consent_body([])).encode()
    request_headers = headers(PSU_IP_Address=PSU_IP, PSU_ID="alice")
    request_headers["Content-Type"] = "application/json"
    request_headers.update(signer.headers_for("POST", "/v1/consents", request_headers, raw))
    request_headers.update(overrides)
    for name in drop:
        del request_headers[name]
    return client.post("/v1/consents", content=sent_body or raw, headers=request_headers)


def test_signed_requests_pass_through_a_whole_ais_flow(signed_client, accounts_of):
    iban = accounts_of("alice")[0].iban
    consent_id = create_consent(signed_client, consent_body([iban]))
    assert authorise_consent(signed_client, consent_id) == "finalised"
    response = signed_client.get(
        "/v1/accounts", headers=headers(Consent_ID=consent_id, PSU_IP_Address=PSU_IP)
    )
    assert response.status_code == 200, response.text
    assert [a["iban"] for a in response.json()["accounts"]] == [iban]


def test_an_unsigned_request_is_signature_missing(plain_client):
    response = plain_client.get("/v1/consents/cns-x", headers=headers())
    assert (response.status_code, codes(response)) == (401, ["SIGNATURE_MISSING"])


@pytest.mark.parametrize("dropped", ["Digest", "TPP-Signature-Certificate"])
def test_a_signature_without_its_digest_or_certificate_is_signature_missing(
    plain_client, seal, dropped
):
    response = post_consent(plain_client, RequestSigner.from_issued(seal), drop=(dropped,))
    assert (response.status_code, codes(response)) == (401, ["SIGNATURE_MISSING"])


def test_a_body_that_differs_from_the_digest_is_signature_invalid(plain_client, seal):
    signer = RequestSigner.from_issued(seal)
    tampered = json.dumps(consent_body([], frequency=1, recurring=False)).encode()
    response = post_consent(plain_client, signer, sent_body=tampered)
    assert (response.status_code, codes(response)) == (401, ["SIGNATURE_INVALID"])


def test_a_signature_by_a_key_that_is_not_the_certificates_is_signature_invalid(
    plain_client, seal, qtsp
):
    other = RequestSigner.from_issued(
        issue_tpp(qtsp, "sig-other-key", ROLES, kind="qsealc", key_type="rsa")
    )
    forged = RequestSigner(other.key, RequestSigner.from_issued(seal).certificate)
    response = post_consent(plain_client, forged)
    assert (response.status_code, codes(response)) == (401, ["SIGNATURE_INVALID"])


def test_a_key_id_that_names_another_certificate_is_signature_invalid(plain_client, seal, qtsp):
    second = issue_tpp(qtsp, "sig-second-seal", ROLES, kind="qsealc")
    carried = RequestSigner.from_issued(second).headers_for("GET", "/", headers(), b"")
    response = post_consent(
        plain_client,
        RequestSigner.from_issued(seal),
        **{"TPP-Signature-Certificate": carried["TPP-Signature-Certificate"]},
    )
    assert (response.status_code, codes(response)) == (401, ["SIGNATURE_INVALID"])


def test_a_qsealc_without_the_psd2_qcstatement_is_certificate_invalid(plain_client, qtsp):
    bare = issue_tpp(qtsp, "sig-no-qcs", ROLES, kind="qsealc", qc_statement=False)
    response = post_consent(plain_client, RequestSigner.from_issued(bare))
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_INVALID"])


def test_a_qsealc_of_a_foreign_ca_is_certificate_invalid(plain_client, tmp_path):
    foreign = issue_tpp(new_qtsp(tmp_path / "foreign"), "sig-foreign", ROLES, kind="qsealc")
    response = post_consent(plain_client, RequestSigner.from_issued(foreign))
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_INVALID"])


def test_a_qwac_used_as_signature_certificate_is_certificate_invalid(plain_client, qwac):
    response = post_consent(plain_client, RequestSigner.from_issued(qwac))
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_INVALID"])


def test_a_qsealc_of_another_tpp_is_certificate_invalid(plain_client, qtsp):
    other_tpp = OrganizationIdentifier("DE", "BAFIN", "999999")
    seal = issue_tpp(qtsp, "sig-other-tpp", ROLES, kind="qsealc", org_id=other_tpp)
    response = post_consent(plain_client, RequestSigner.from_issued(seal))
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_INVALID"])


def test_a_revoked_qsealc_is_certificate_revoked(plain_client, qtsp):
    seal = issue_tpp(qtsp, "sig-revoked", ROLES, kind="qsealc")
    signer = RequestSigner.from_issued(seal)
    assert post_consent(plain_client, signer).status_code == 201
    qtsp.revoke("sig-revoked")
    response = post_consent(plain_client, signer)
    assert (response.status_code, codes(response)) == (401, ["CERTIFICATE_REVOKED"])


def test_a_bad_qwac_is_reported_before_any_signature_problem(strict_bank, qtsp):
    pis_only = strict_bank.client(issue_tpp(qtsp, "sig-pis-only", (Psd2Role.PSP_PI,)))
    response = pis_only.get("/v1/consents/cns-x", headers=headers())
    assert (response.status_code, codes(response)) == (401, ["ROLE_INVALID"])


def test_nothing_is_stored_for_a_refused_signature(plain_client, seal, strict_bank):
    from sqlalchemy import func, select

    from twinrail.sandbox.bank.store.tables import consents

    def count():
        with strict_bank.bank.service.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(consents)).scalar()

    before = count()
    tampered = json.dumps(consent_body([], frequency=2)).encode()
    post_consent(plain_client, RequestSigner.from_issued(seal), sent_body=tampered)
    assert count() == before
