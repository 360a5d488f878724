"""X.509 building blocks of the sandbox QTSP: names, validity, key usages, keys on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "PrivateKey",
    "generate_key",
    "subject_name",
    "certificate_builder",
    "authority_key_identifier",
    "ca_key_usage",
    "end_entity_key_usage",
    "crl_reason",
    "pem",
    "write_key",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def generate_key(key_type: str = "ec") -> PrivateKey:
    """A fresh key: EC P-256 (fast, the default) or RSA 2048 (what many real QTSPs issue)."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key type {key_type!r} (ec or rsa)")


def subject_name(*, country: str, org: str, cn: str, org_id: str | None = None) -> x509.Name:
    """A subject DN: C, O, optional organizationIdentifier (2.5.4.97), CN."""
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if org_id:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, org_id))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def certificate_builder(
    subject: x509.Name, issuer: x509.Name, public_key: Any, start: dt.datetime, *, days: int
) -> x509.CertificateBuilder:
    """A builder with subject, issuer, key, a random serial and `days` of validity."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - dt.timedelta(minutes=5))  # tolerate small clock skew
        .not_valid_after(start + dt.timedelta(days=days))
    )


def authority_key_identifier(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The AKI pointing at `issuer`'s subject key identifier."""
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def ca_key_usage() -> x509.KeyUsage:
    """Key usage of a CA: certificate and CRL signing only."""
    return x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip


def end_entity_key_usage(*, digital_signature: bool, content_commitment: bool) -> x509.KeyUsage:
    """Key usage of a TPP or server certificate."""
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=content_commitment,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
    )  # fmt: skip


def crl_reason(reason: str) -> x509.ReasonFlags:
    """The RFC 5280 reason named `reason` (e.g. keyCompromise); ValueError for others."""
    try:
        return x509.ReasonFlags(reason)
    except ValueError:
        names = ", ".join(r.value for r in x509.ReasonFlags)
        raise ValueError(f"unknown revocation reason {reason!r} (one of {names})") from None


def pem(cert: x509.Certificate) -> bytes:
    """The certificate in PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def write_key(path: Path, key: PrivateKey) -> None:
    """Write an unencrypted PKCS#8 key readable only by its owner (sandbox keys only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
