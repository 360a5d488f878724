"""Builders for test certificates: a sandbox QTSP and TPP certificates of every kind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from twinrail.openbanking.domain.psd2 import OrganizationIdentifier, Psd2Role
from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate, SandboxQtsp

__all__ = ["new_qtsp", "issue_tpp", "self_signed_qwac", "ORG_ID"]

ORG_ID = OrganizationIdentifier("DE", "BAFIN", "123456")


def new_qtsp(directory: Path, name: str = "Twinrail Sandbox QTSP") -> SandboxQtsp:
    """An initialised QTSP in `directory`."""
    qtsp = SandboxQtsp(directory)
    qtsp.init(name=name)
    return qtsp


def issue_tpp(
    qtsp: SandboxQtsp,
    name: str,
    roles: tuple[Psd2Role, ...] = (Psd2Role.PSP_AI,),
    *,
    kind: str = "qwac",
    org_id: OrganizationIdentifier = ORG_ID,
    **kwargs: object,
) -> IssuedCertificate:
    """A TPP certificate named `name` with `roles`."""
    return qtsp.issue_tpp_certificate(
        name,
        kind=kind,
        organization=f"TPP {name}",
        organization_id=org_id,
        roles=roles,
        nca_name="Bundesanstalt fuer Finanzdienstleistungsaufsicht",
        **kwargs,  # type: ignore[arg-type]
    )


def self_signed_qwac(directory: Path) -> tuple[Path, Path]:
    """A self-signed client certificate that looks like a QWAC (same subject form, no QTSP)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, str(ORG_ID)),
            x509.NameAttribute(NameOID.COMMON_NAME, "Self Signed TPP"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "self-signed.pem", directory / "self-signed.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
