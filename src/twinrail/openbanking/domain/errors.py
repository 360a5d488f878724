"""Open banking's error tree. Every leaf has a stable dotted `code`; certificate rejections also
carry the Berlin Group message code a bank answers with.

OpenBankingError
├── CertificateRejected          a TPP certificate fails a check (`berlin_group_code`)
│   ├── CertificateMissing       no client certificate was presented
│   ├── CertificateInvalid       untrusted chain, bad signature, no PSD2 QCStatement, wrong type
│   ├── CertificateExpired       outside its validity period
│   ├── CertificateRevoked       listed on the issuing CA's CRL
│   └── RoleInvalid              lacks the PSD2 role the service needs
├── SignatureRejected            a request's message signature fails a check (`berlin_group_code`)
│   ├── SignatureMissing         a bank requires signatures; Signature, Digest or certificate absent
│   └── SignatureInvalid         malformed, wrong digest, keyId not the certificate, bad signature
└── PkiError                     the test QTSP's tooling was misused
    ├── QtspNotInitialised       `pki init` has not been run in this directory
    ├── QtspAlreadyInitialised   refusing to overwrite an existing QTSP
    └── UnknownCertificate       no issued certificate has this name or serial
"""

from __future__ import annotations

from twinrail.platform.errors import TwinrailError

__all__ = [
    "OpenBankingError",
    "CertificateRejected",
    "CertificateMissing",
    "CertificateInvalid",
    "CertificateExpired",
    "CertificateRevoked",
    "RoleInvalid",
    "SignatureRejected",
    "SignatureMissing",
    "SignatureInvalid",
    "PkiError",
    "QtspNotInitialised",
    "QtspAlreadyInitialised",
    "UnknownCertificate",
]


class OpenBankingError(TwinrailError):
    """Root of every error open banking raises."""

    code = "openbanking.error"


class CertificateRejected(OpenBankingError):
    """A TPP certificate fails a check; `berlin_group_code` is what a bank tells the TPP."""

    code = "openbanking.certificate.rejected"
    berlin_group_code = "CERTIFICATE_INVALID"


class CertificateMissing(CertificateRejected):
    """Raised when no client certificate was presented."""

    code = "openbanking.certificate.missing"
    berlin_group_code = "CERTIFICATE_MISSING"


class CertificateInvalid(CertificateRejected):
    """Raised for an untrusted chain, a bad signature, a missing QCStatement or a wrong type."""

    code = "openbanking.certificate.invalid"
    berlin_group_code = "CERTIFICATE_INVALID"


class CertificateExpired(CertificateRejected):
    """Raised when the certificate (or a CA above it) is outside its validity period."""

    code = "openbanking.certificate.expired"
    berlin_group_code = "CERTIFICATE_EXPIRED"


class CertificateRevoked(CertificateRejected):
    """Raised when the issuing CA's CRL lists the certificate."""

    code = "openbanking.certificate.revoked"
    berlin_group_code = "CERTIFICATE_REVOKED"


class RoleInvalid(CertificateRejected):
    """Raised when the PSD2 QCStatement lacks the role the service needs."""

    code = "openbanking.certificate.role_invalid"
    berlin_group_code = "ROLE_INVALID"


class SignatureRejected(OpenBankingError):
    """A request's message signature fails a check; `berlin_group_code` is the bank's answer."""

    code = "openbanking.signature.rejected"
    berlin_group_code = "SIGNATURE_INVALID"


class SignatureMissing(SignatureRejected):
    """Raised when signatures are required and Signature, Digest or the certificate is absent."""

    code = "openbanking.signature.missing"
    berlin_group_code = "SIGNATURE_MISSING"


class SignatureInvalid(SignatureRejected):
    """Raised for a malformed header, a wrong digest, a foreign keyId or a failing signature."""

    code = "openbanking.signature.invalid"
    berlin_group_code = "SIGNATURE_INVALID"


class PkiError(OpenBankingError):
    """The test QTSP's tooling was misused."""

    code = "openbanking.pki.error"


class QtspNotInitialised(PkiError):
    """Raised when the QTSP directory has no CA yet (`twinrail pki init`)."""

    code = "openbanking.pki.not_initialised"


class QtspAlreadyInitialised(PkiError):
    """Raised by `init` when the directory already holds a QTSP."""

    code = "openbanking.pki.already_initialised"


class UnknownCertificate(PkiError):
    """Raised when no issued certificate has the given name or serial."""

    code = "openbanking.pki.unknown_certificate"
