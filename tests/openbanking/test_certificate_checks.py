"""A bank accepts a QWAC only if it chains to the QTSP, is current, unrevoked, PSD2-qualified and
carries the role; each failure has its Berlin Group code."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from tests.openbanking.pki_builders import ORG_ID, issue_tpp, new_qtsp, self_signed_qwac
from twinrail.openbanking.domain.certificates import check_tpp_certificate, read_tpp_certificate
from twinrail.openbanking.domain.errors import (
    CertificateExpired,
    CertificateInvalid,
    CertificateRevoked,
    QtspAlreadyInitialised,
    QtspNotInitialised,
    RoleInvalid,
    UnknownCertificate,
)
from twinrail.openbanking.domain.psd2 import Psd2Role, QcType
from twinrail.openbanking.service.sandbox_qtsp import SandboxQtsp

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def qtsp(tmp_path_factory):
    return new_qtsp(tmp_path_factory.mktemp("qtsp"))


def check(qtsp, cert, role=Psd2Role.PSP_AI, now=None, usage=QcType.WEB):
    return check_tpp_certificate(
        cert, qtsp.trust(), now=now or dt.datetime.now(dt.UTC), required_role=role, usage=usage
    )


def test_an_issued_qwac_carries_roles_nca_and_organization_identifier(qtsp):
    issued = issue_tpp(qtsp, "reader", (Psd2Role.PSP_AI, Psd2Role.PSP_IC))
    tpp = check(qtsp, issued.certificate)
    assert tpp.roles == {Psd2Role.PSP_AI, Psd2Role.PSP_IC}
    assert tpp.tpp_id == "PSDDE-BAFIN-123456"
    assert tpp.psd2 is not None and tpp.psd2.nca_id == "DE-BAFIN"
    assert tpp.qc_statements is not None and tpp.qc_statements.qc_compliance
    assert issued.chain_path.read_bytes().count(b"BEGIN CERTIFICATE") == 2


def test_a_qwac_without_the_required_role_is_role_invalid(qtsp):
    issued = issue_tpp(qtsp, "payments-only", (Psd2Role.PSP_PI,))
    with pytest.raises(RoleInvalid) as err:
        check(qtsp, issued.certificate, Psd2Role.PSP_AI)
    assert err.value.berlin_group_code == "ROLE_INVALID"


def test_an_expired_qwac_is_certificate_expired(qtsp):
    issued = issue_tpp(qtsp, "old", not_before=NOW - dt.timedelta(days=40), validity_days=30)
    with pytest.raises(CertificateExpired) as err:
        check(qtsp, issued.certificate)
    assert err.value.berlin_group_code == "CERTIFICATE_EXPIRED"


def test_a_qwac_is_judged_by_the_time_it_is_given_not_the_wall_clock(qtsp):
    issued = issue_tpp(qtsp, "short", validity_days=10)
    check(qtsp, issued.certificate, now=NOW + dt.timedelta(days=9))
    with pytest.raises(CertificateExpired):
        check(qtsp, issued.certificate, now=NOW + dt.timedelta(days=11))


def test_a_revoked_qwac_is_certificate_revoked_once_the_crl_lists_it(qtsp):
    issued = issue_tpp(qtsp, "compromised")
    check(qtsp, issued.certificate)
    qtsp.revoke("compromised", reason="keyCompromise")
    with pytest.raises(CertificateRevoked) as err:
        check(qtsp, issued.certificate)
    assert err.value.berlin_group_code == "CERTIFICATE_REVOKED"
    assert qtsp.issued()["compromised"]["revoked"]["reason"] == "keyCompromise"


def test_a_self_signed_certificate_is_certificate_invalid(qtsp, tmp_path):
    cert_path, _ = self_signed_qwac(tmp_path)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    with pytest.raises(CertificateInvalid):
        check(qtsp, cert)


def test_a_certificate_from_another_qtsp_is_certificate_invalid(qtsp, tmp_path):
    # Same names, different keys: only the signatures tell the two QTSPs apart.
    other = new_qtsp(tmp_path / "other")
    issued = issue_tpp(other, "impostor")
    with pytest.raises(CertificateInvalid):
        check(qtsp, issued.certificate)


def test_a_certificate_without_the_psd2_qcstatement_is_certificate_invalid(qtsp):
    issued = issue_tpp(qtsp, "plain", qc_statement=False)
    assert read_tpp_certificate(issued.certificate).psd2 is None
    with pytest.raises(CertificateInvalid):
        check(qtsp, issued.certificate)


def test_a_qsealc_is_not_accepted_as_a_qwac_and_vice_versa(qtsp):
    seal = issue_tpp(qtsp, "seal", kind="qsealc")
    with pytest.raises(CertificateInvalid):
        check(qtsp, seal.certificate)
    assert check(qtsp, seal.certificate, usage=QcType.ESEAL).roles == {Psd2Role.PSP_AI}
    qwac = issue_tpp(qtsp, "web")
    with pytest.raises(CertificateInvalid):
        check(qtsp, qwac.certificate, usage=QcType.ESEAL)


def test_an_organization_identifier_naming_another_nca_is_certificate_invalid(qtsp):
    issued = issue_tpp(qtsp, "mismatch", nca_id="FR-ACPR")
    with pytest.raises(CertificateInvalid):
        check(qtsp, issued.certificate)


def test_without_a_current_crl_the_revocation_status_is_unknown_and_refused(qtsp):
    issued = issue_tpp(qtsp, "late", validity_days=800)
    with pytest.raises(CertificateInvalid):
        check(qtsp, issued.certificate, now=NOW + dt.timedelta(days=366))


def test_the_qtsp_refuses_to_overwrite_itself_and_needs_init_first(qtsp, tmp_path):
    with pytest.raises(QtspAlreadyInitialised):
        qtsp.init()
    with pytest.raises(QtspNotInitialised):
        SandboxQtsp(tmp_path / "empty").issue_server_certificate("x")
    with pytest.raises(UnknownCertificate):
        qtsp.revoke("never-issued")


def test_the_bank_server_certificate_comes_from_the_same_qtsp(qtsp):
    server = qtsp.issue_server_certificate("bank")
    trust = qtsp.trust()
    server.certificate.verify_directly_issued_by(trust.issuing_cas[0])
    sans = server.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "localhost" in sans.value.get_values_for_type(x509.DNSName)


def test_rsa_keys_are_available_for_tpps_that_need_them(qtsp):
    issued = issue_tpp(qtsp, "rsa", key_type="rsa")
    assert check(qtsp, issued.certificate).tpp_id == str(ORG_ID)


def test_a_crl_names_the_revocation_reason_except_an_unspecified_one(qtsp):
    issue_tpp(qtsp, "reasoned")
    issue_tpp(qtsp, "unreasoned")
    qtsp.revoke("reasoned", reason="cessationOfOperation")
    qtsp.revoke("unreasoned")
    crl = qtsp.trust().crls[0]
    by_serial = {int(v["serial"], 16): k for k, v in qtsp.issued().items()}
    reasons = {}
    for entry in crl:
        try:
            reasons[by_serial[entry.serial_number]] = entry.extensions.get_extension_for_class(
                x509.CRLReason
            ).value.reason
        except x509.ExtensionNotFound:
            reasons[by_serial[entry.serial_number]] = None
    assert reasons["reasoned"] == x509.ReasonFlags.cessation_of_operation
    assert reasons["unreasoned"] is None


def test_an_unknown_revocation_reason_is_refused_and_changes_nothing(qtsp):
    issue_tpp(qtsp, "kept")
    with pytest.raises(ValueError):
        qtsp.revoke("kept", reason="because")
    assert qtsp.issued()["kept"]["revoked"] is None
