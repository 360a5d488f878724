"""The PSD2 QCStatement is encoded as ETSI TS 119 495 defines it (cross-checked with asn1crypto)."""

from __future__ import annotations

import asn1crypto.core as asn1
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinrail.openbanking.domain.der import DerError, decode_oid, encode_oid, encode_sequence
from twinrail.openbanking.domain.psd2 import (
    OrganizationIdentifier,
    Psd2Attributes,
    Psd2Role,
    QcType,
)
from twinrail.openbanking.domain.qc_statements import (
    PSD2_STATEMENT_OID,
    QC_COMPLIANCE_OID,
    QC_TYPE_OID,
    QcStatements,
    decode_qc_statements,
    encode_qc_statements,
)

PSD2 = Psd2Attributes(frozenset({Psd2Role.PSP_AI, Psd2Role.PSP_PI}), "BaFin", "DE-BAFIN")


def test_statements_round_trip_through_der():
    statements = QcStatements(True, frozenset({QcType.WEB}), PSD2)
    assert decode_qc_statements(encode_qc_statements(statements)) == statements


def test_an_independent_asn1_parser_reads_the_psd2_statement_as_ts_119_495_defines_it():
    der = encode_qc_statements(QcStatements(True, frozenset({QcType.WEB}), PSD2))
    parsed = asn1.Sequence.load(der)
    statements = [asn1.Sequence.load(parsed[i].dump()) for i in range(len(parsed))]
    ids = [asn1.ObjectIdentifier.load(s[0].dump()).dotted for s in statements]
    assert ids == [QC_COMPLIANCE_OID, QC_TYPE_OID, PSD2_STATEMENT_OID]

    qc_type = asn1.SequenceOf.load(statements[1][1].dump(), spec=asn1.ObjectIdentifier)
    assert [oid.dotted for oid in qc_type] == ["0.4.0.1862.1.6.3"]

    psd2 = asn1.Sequence.load(statements[2][1].dump())
    roles = asn1.Sequence.load(psd2[0].dump())
    decoded_roles = []
    for i in range(len(roles)):
        role = asn1.Sequence.load(roles[i].dump())
        decoded_roles.append(
            (
                asn1.ObjectIdentifier.load(role[0].dump()).dotted,
                asn1.UTF8String.load(role[1].dump()).native,
            )
        )
    assert decoded_roles == [("0.4.0.19495.1.2", "PSP_PI"), ("0.4.0.19495.1.3", "PSP_AI")]
    assert asn1.UTF8String.load(psd2[1].dump()).native == "BaFin"
    assert asn1.UTF8String.load(psd2[2].dump()).native == "DE-BAFIN"


@given(st.lists(st.integers(min_value=0, max_value=2**40), min_size=1, max_size=6))
def test_oids_encode_as_asn1crypto_encodes_them(arcs):
    dotted = ".".join(["1", "3", *map(str, arcs)])
    assert encode_oid(dotted) == asn1.ObjectIdentifier(dotted).dump()
    assert decode_oid(encode_oid(dotted)[2:]) == dotted


def test_long_strings_use_the_long_length_form():
    name = "N" * 300
    der = encode_qc_statements(
        QcStatements(False, frozenset(), Psd2Attributes(frozenset(), name, "DE-X"))
    )
    assert asn1.Sequence.load(der).dump() == der
    assert decode_qc_statements(der).psd2 == Psd2Attributes(frozenset(), name, "DE-X")


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"\x30\x05\x30\x03",  # truncated
        b"\x04\x00",  # not a SEQUENCE
        encode_sequence(encode_sequence(encode_oid(PSD2_STATEMENT_OID))),  # statement without info
        b"\x30\x81\x05" + b"\x00" * 5,  # long form for a short length (not DER)
    ],
)
def test_malformed_statements_are_rejected(der):
    with pytest.raises(DerError):
        decode_qc_statements(der)


def test_a_role_whose_name_contradicts_its_oid_is_rejected():
    from twinrail.openbanking.domain.der import encode_utf8

    role = encode_sequence(encode_oid(Psd2Role.PSP_AI.oid), encode_utf8("PSP_PI"))
    info = encode_sequence(encode_sequence(role), encode_utf8("BaFin"), encode_utf8("DE-BAFIN"))
    der = encode_sequence(encode_sequence(encode_oid(PSD2_STATEMENT_OID), info))
    with pytest.raises(DerError):
        decode_qc_statements(der)


def test_organization_identifiers_follow_the_psd_country_nca_id_form():
    org = OrganizationIdentifier.parse("PSDDE-BAFIN-123456")
    assert (org.country, org.nca, org.authorisation_number) == ("DE", "BAFIN", "123456")
    assert org.nca_id == "DE-BAFIN"
    assert str(org) == "PSDDE-BAFIN-123456"
    for bad in ["DE-BAFIN-1", "PSDDE_BAFIN_1", "PSDde-BAFIN-1", "PSDDE-BAFIN-", "NTRDE-HRB-1"]:
        with pytest.raises(ValueError):
            OrganizationIdentifier.parse(bad)
