"""Encode and decode the qcStatements extension (RFC 3739) with the ETSI PSD2 statement.

QCStatements ::= SEQUENCE OF QCStatement
QCStatement  ::= SEQUENCE { statementId OBJECT IDENTIFIER, statementInfo ANY OPTIONAL }
PSD2QcType   ::= SEQUENCE { rolesOfPSP RolesOfPSP, nCAName NCAName, nCAId NCAId }
RolesOfPSP   ::= SEQUENCE OF RoleOfPSP
RoleOfPSP    ::= SEQUENCE { roleOfPspOid RoleOfPspOid, roleOfPspName RoleOfPspName }
QcType       ::= SEQUENCE OF OBJECT IDENTIFIER
"""

from __future__ import annotations

from dataclasses import dataclass

from twinrail.openbanking.domain.der import (
    OID,
    SEQUENCE,
    UTF8_STRING,
    DerError,
    Tlv,
    decode_all,
    decode_oid,
    encode_oid,
    encode_sequence,
    encode_utf8,
)
from twinrail.openbanking.domain.psd2 import Psd2Attributes, Psd2Role, QcType

__all__ = [
    "QC_STATEMENTS_OID",
    "QC_COMPLIANCE_OID",
    "QC_TYPE_OID",
    "PSD2_STATEMENT_OID",
    "QcStatements",
    "encode_qc_statements",
    "decode_qc_statements",
]

QC_STATEMENTS_OID = "1.3.6.1.5.5.7.1.3"  # id-pe-qcStatements
QC_COMPLIANCE_OID = "0.4.0.1862.1.1"  # id-etsi-qcs-QcCompliance
QC_TYPE_OID = "0.4.0.1862.1.6"  # id-etsi-qcs-QcType
PSD2_STATEMENT_OID = "0.4.0.19495.2"  # id-etsi-psd2-qcStatement


@dataclass(frozen=True)
class QcStatements:
    """What a qcStatements extension says: compliance, certificate types and the PSD2 statement."""

    qc_compliance: bool
    qc_types: frozenset[QcType]
    psd2: Psd2Attributes | None


def encode_qc_statements(statements: QcStatements) -> bytes:
    """The DER value of a qcStatements extension."""
    items: list[bytes] = []
    if statements.qc_compliance:
        items.append(encode_sequence(encode_oid(QC_COMPLIANCE_OID)))
    if statements.qc_types:
        types = encode_sequence(*(encode_oid(t.value) for t in sorted(statements.qc_types)))
        items.append(encode_sequence(encode_oid(QC_TYPE_OID), types))
    if statements.psd2 is not None:
        items.append(encode_sequence(encode_oid(PSD2_STATEMENT_OID), _encode_psd2(statements.psd2)))
    return encode_sequence(*items)


def _encode_psd2(psd2: Psd2Attributes) -> bytes:
    # Roles in their canonical order so that the same attributes give the same bytes.
    roles = [
        encode_sequence(encode_oid(role.oid), encode_utf8(role.value))
        for role in sorted(psd2.roles, key=lambda r: r.oid)
    ]
    return encode_sequence(
        encode_sequence(*roles), encode_utf8(psd2.nca_name), encode_utf8(psd2.nca_id)
    )


def decode_qc_statements(der: bytes) -> QcStatements:
    """Read a qcStatements extension value; DerError if it is not well formed."""
    outer = decode_all(der)
    if len(outer) != 1 or outer[0].tag != SEQUENCE:
        raise DerError("qcStatements is not one SEQUENCE")
    compliance, types, psd2 = False, frozenset[QcType](), None
    for statement in decode_all(outer[0].value):
        parts = _expect_sequence(statement)
        if not parts or parts[0].tag != OID or len(parts) > 2:
            raise DerError("bad QCStatement")
        statement_id = decode_oid(parts[0].value)
        info = parts[1] if len(parts) == 2 else None
        if statement_id == QC_COMPLIANCE_OID:
            compliance = True
        elif statement_id == QC_TYPE_OID and info is not None:
            types = frozenset(_decode_qc_types(info))
        elif statement_id == PSD2_STATEMENT_OID:
            if info is None:
                raise DerError("PSD2 statement without its info")
            psd2 = _decode_psd2(info)
    return QcStatements(compliance, types, psd2)


def _decode_qc_types(info: Tlv) -> list[QcType]:
    known = {t.value: t for t in QcType}
    oids = [decode_oid(_expect(item, OID)) for item in _expect_sequence(info)]
    return [known[oid] for oid in oids if oid in known]


def _decode_psd2(info: Tlv) -> Psd2Attributes:
    fields = _expect_sequence(info)
    if len(fields) != 3:
        raise DerError("PSD2QcType needs rolesOfPSP, nCAName and nCAId")
    roles: set[Psd2Role] = set()
    for role_item in _expect_sequence(fields[0]):
        role_parts = _expect_sequence(role_item)
        if len(role_parts) != 2:
            raise DerError("RoleOfPSP needs an OID and a name")
        role = Psd2Role.from_oid(decode_oid(_expect(role_parts[0], OID)))
        name = _expect(role_parts[1], UTF8_STRING).decode("utf-8")
        # TS 119 495 §5.1: the name must match the OID; a mismatch is a malformed statement.
        if role is not None and name != role.value:
            raise DerError(f"role name {name!r} does not match its OID")
        if role is not None:
            roles.add(role)
    nca_name = _expect(fields[1], UTF8_STRING).decode("utf-8")
    nca_id = _expect(fields[2], UTF8_STRING).decode("utf-8")
    return Psd2Attributes(frozenset(roles), nca_name, nca_id)


def _expect(item: Tlv, tag: int) -> bytes:
    if item.tag != tag:
        raise DerError(f"expected tag {tag:#x}, found {item.tag:#x}")
    return item.value


def _expect_sequence(item: Tlv) -> list[Tlv]:
    return decode_all(_expect(item, SEQUENCE))
