"""Pure open-banking rules: PSD2 certificate content and the checks a bank applies to it."""

from twinrail.openbanking.domain.certificates import (
    QtspTrust,
    TppCertificate,
    check_tpp_certificate,
    read_tpp_certificate,
)
from twinrail.openbanking.domain.psd2 import (
    OrganizationIdentifier,
    Psd2Attributes,
    Psd2Role,
    QcType,
)
from twinrail.openbanking.domain.qc_statements import (
    QcStatements,
    decode_qc_statements,
    encode_qc_statements,
)

__all__ = [
    "OrganizationIdentifier",
    "Psd2Attributes",
    "Psd2Role",
    "QcStatements",
    "QcType",
    "QtspTrust",
    "TppCertificate",
    "check_tpp_certificate",
    "decode_qc_statements",
    "encode_qc_statements",
    "read_tpp_certificate",
]
