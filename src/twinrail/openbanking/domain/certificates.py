"""Read a TPP certificate's PSD2 identity and decide whether a bank may accept it.

Parsing X.509 with `cryptography` is pure computation (no I/O), so it lives in the domain; the
caller supplies the trust anchors, the CRLs and the time, which keeps the rule deterministic and
lets the sandbox bank judge certificates by sandbox time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from twinrail.openbanking.domain.der import DerError
from twinrail.openbanking.domain.errors import (
    CertificateExpired,
    CertificateInvalid,
    CertificateRevoked,
    RoleInvalid,
)
from twinrail.openbanking.domain.psd2 import (
    OrganizationIdentifier,
    Psd2Attributes,
    Psd2Role,
    QcType,
)
from twinrail.openbanking.domain.qc_statements import (
    QC_STATEMENTS_OID,
    QcStatements,
    decode_qc_statements,
)

__all__ = ["TppCertificate", "QtspTrust", "read_tpp_certificate", "check_tpp_certificate"]


@dataclass(frozen=True)
class TppCertificate:
    """The facts about a TPP certificate that a bank decides on."""

    serial_number: int
    fingerprint_sha256: str
    common_name: str
    organization_name: str
    organization_identifier: OrganizationIdentifier | None
    qc_statements: QcStatements | None
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def psd2(self) -> Psd2Attributes | None:
        """The PSD2 QCStatement, if the certificate has a well-formed one."""
        return self.qc_statements.psd2 if self.qc_statements else None

    @property
    def roles(self) -> frozenset[Psd2Role]:
        """The PSD2 roles the certificate grants (empty without a PSD2 statement)."""
        return self.psd2.roles if self.psd2 else frozenset()

    @property
    def tpp_id(self) -> str:
        """The TPP's authorisation id, as banks key their records (organizationIdentifier)."""
        return str(self.organization_identifier) if self.organization_identifier else ""


@dataclass(frozen=True)
class QtspTrust:
    """What the bank trusts: the QTSP roots, the issuing CAs below them, and their CRLs."""

    roots: Sequence[x509.Certificate]
    issuing_cas: Sequence[x509.Certificate]
    crls: Sequence[x509.CertificateRevocationList] = ()


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    value = values[0].value if values else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def read_tpp_certificate(cert: x509.Certificate) -> TppCertificate:
    """The PSD2-relevant content of `cert`; malformed PSD2 parts read as absent."""
    org_text = _attribute(cert.subject, NameOID.ORGANIZATION_IDENTIFIER)
    try:
        org_id = OrganizationIdentifier.parse(org_text) if org_text else None
    except ValueError:
        org_id = None
    statements: QcStatements | None = None
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(QC_STATEMENTS_OID))
        if isinstance(ext.value, x509.UnrecognizedExtension):
            statements = decode_qc_statements(ext.value.value)
    except (x509.ExtensionNotFound, DerError):
        statements = None
    return TppCertificate(
        serial_number=cert.serial_number,
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        common_name=_attribute(cert.subject, NameOID.COMMON_NAME),
        organization_name=_attribute(cert.subject, NameOID.ORGANIZATION_NAME),
        organization_identifier=org_id,
        qc_statements=statements,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def check_tpp_certificate(
    cert: x509.Certificate,
    trust: QtspTrust,
    *,
    now: dt.datetime,
    required_role: Psd2Role | None,
    usage: QcType = QcType.WEB,
) -> TppCertificate:
    """Accept `cert` as a QWAC (or QSealC) of a TPP with `required_role` at `now`, or raise.

    Order matters for the TPP: an untrusted certificate says nothing reliable about itself, so
    trust is checked first, then time, revocation, the PSD2 statement and finally the role.
    """
    issuer = _verified_issuer(cert, trust)
    for link in (cert, issuer):
        if not link.not_valid_before_utc <= now <= link.not_valid_after_utc:
            raise CertificateExpired(
                "certificate is outside its validity period",
                subject=link.subject.rfc4514_string(),
                not_after=link.not_valid_after_utc.isoformat(),
            )
    _check_not_revoked(cert, issuer, trust, now)
    tpp = read_tpp_certificate(cert)
    _check_psd2_content(cert, tpp, usage)
    if required_role is not None and required_role not in tpp.roles:
        raise RoleInvalid(
            f"certificate lacks the {required_role.value} role",
            roles=sorted(r.value for r in tpp.roles),
        )
    return tpp


def _verified_issuer(cert: x509.Certificate, trust: QtspTrust) -> x509.Certificate:
    for ca in trust.issuing_cas:
        if ca.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        if any(_issued_by_root(ca, root) for root in trust.roots):
            return ca
    raise CertificateInvalid(
        "certificate does not chain to the trusted QTSP", issuer=cert.issuer.rfc4514_string()
    )


def _issued_by_root(ca: x509.Certificate, root: x509.Certificate) -> bool:
    if ca.issuer != root.subject:
        return False
    try:
        ca.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_not_revoked(
    cert: x509.Certificate, issuer: x509.Certificate, trust: QtspTrust, now: dt.datetime
) -> None:
    crls = [c for c in trust.crls if c.issuer == issuer.subject]
    valid = [c for c in crls if c.is_signature_valid(issuer.public_key())]  # type: ignore[arg-type]
    current = [c for c in valid if c.next_update_utc is None or now <= c.next_update_utc]
    if not current:
        # Fail closed: without a current, authentic CRL the revocation status is unknown.
        raise CertificateInvalid("revocation status unknown: no current CRL from the issuing CA")
    for crl in current:
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None and entry.revocation_date_utc <= now:
            raise CertificateRevoked(
                "certificate has been revoked",
                serial_number=format(cert.serial_number, "x"),
                revoked_at=entry.revocation_date_utc.isoformat(),
            )


def _check_psd2_content(cert: x509.Certificate, tpp: TppCertificate, usage: QcType) -> None:
    statements = tpp.qc_statements
    if statements is None or statements.psd2 is None:
        raise CertificateInvalid("certificate has no valid PSD2 QCStatement")
    if tpp.organization_identifier is None:
        raise CertificateInvalid("subject has no PSD2 organizationIdentifier")
    if tpp.organization_identifier.nca_id != statements.psd2.nca_id:
        raise CertificateInvalid(
            "organizationIdentifier and QCStatement name different NCAs",
            organization_identifier=str(tpp.organization_identifier),
            nca_id=statements.psd2.nca_id,
        )
    if usage not in statements.qc_types:
        raise CertificateInvalid(f"certificate is not qualified for {usage.name} use")
    if usage is QcType.WEB and not _allows_client_auth(cert):
        raise CertificateInvalid("certificate does not allow TLS client authentication")


def _allows_client_auth(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku
