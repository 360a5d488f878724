"""A test QTSP on disk: root and issuing CA, QWAC / QSealC / server certificates, revocation, CRL.

Layout of the directory (default `var/pki/`):
    root-ca.pem, root-ca.key.pem          self-signed root
    issuing-ca.pem, issuing-ca.key.pem    the CA that signs every end-entity certificate
    ca-bundle.pem                         issuing + root, what a bank or a TPP trusts
    crl.pem                               the issuing CA's CRL, re-published on every revocation
    issued.json                           name -> serial, kind, revocation
    certs/<name>.pem, .key.pem, .chain.pem
Keys are unencrypted: this QTSP exists only for sandboxes and tests.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from twinrail.openbanking.domain.certificates import QtspTrust
from twinrail.openbanking.domain.errors import (
    QtspAlreadyInitialised,
    QtspNotInitialised,
    UnknownCertificate,
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
    encode_qc_statements,
)
from twinrail.openbanking.service.x509_building import (
    PrivateKey,
    authority_key_identifier,
    ca_key_usage,
    certificate_builder,
    crl_reason,
    end_entity_key_usage,
    generate_key,
    pem,
    subject_name,
    write_key,
)
from twinrail.platform.clock import Clock, utc_now

__all__ = ["SandboxQtsp", "IssuedCertificate"]


@dataclass(frozen=True)
class IssuedCertificate:
    """An end-entity certificate the QTSP issued, with where its files are."""

    name: str
    kind: str  # qwac, qsealc or server
    certificate: x509.Certificate
    cert_path: Path
    key_path: Path
    chain_path: Path

    @property
    def serial_number(self) -> int:
        """The certificate's serial number."""
        return self.certificate.serial_number


class SandboxQtsp:
    """A qualified trust service provider for tests, kept in one directory."""

    def __init__(self, directory: Path, *, clock: Clock = utc_now) -> None:
        self.directory = Path(directory)
        self.clock = clock

    # -- paths ---------------------------------------------------------------------------
    @property
    def root_cert_path(self) -> Path:
        return self.directory / "root-ca.pem"

    @property
    def issuing_cert_path(self) -> Path:
        return self.directory / "issuing-ca.pem"

    @property
    def ca_bundle_path(self) -> Path:
        return self.directory / "ca-bundle.pem"

    @property
    def crl_path(self) -> Path:
        return self.directory / "crl.pem"

    @property
    def _index_path(self) -> Path:
        return self.directory / "issued.json"

    def is_initialised(self) -> bool:
        """Whether `init` has created the CAs here."""
        return self.issuing_cert_path.exists() and self.root_cert_path.exists()

    # -- creation ------------------------------------------------------------------------
    def init(self, *, name: str = "Twinrail Sandbox QTSP", country: str = "DE") -> None:
        """Create the root and issuing CA and an empty CRL; refuse to overwrite an existing QTSP."""
        if self.is_initialised():
            raise QtspAlreadyInitialised(
                "a QTSP already exists here", directory=str(self.directory)
            )
        (self.directory / "certs").mkdir(parents=True, exist_ok=True)
        now = self.clock()
        root_key = generate_key()
        root_name = subject_name(country=country, org=name, cn=f"{name} Root CA")
        root = (
            certificate_builder(root_name, root_name, root_key.public_key(), now, days=3650)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(ca_key_usage(), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
            )
            .sign(root_key, hashes.SHA256())
        )
        issuing_key = generate_key()
        issuing = (
            certificate_builder(
                subject_name(country=country, org=name, cn=f"{name} Issuing CA"),
                root_name,
                issuing_key.public_key(),
                now,
                days=1825,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(ca_key_usage(), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(issuing_key.public_key()), critical=False
            )
            .add_extension(authority_key_identifier(root), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        write_key(self.directory / "root-ca.key.pem", root_key)
        write_key(self.directory / "issuing-ca.key.pem", issuing_key)
        self.root_cert_path.write_bytes(pem(root))
        self.issuing_cert_path.write_bytes(pem(issuing))
        self.ca_bundle_path.write_bytes(pem(issuing) + pem(root))
        self._write_index({})
        self.publish_crl()

    # -- issuance ------------------------------------------------------------------------
    def issue_qwac(self, name: str, **kwargs: Any) -> IssuedCertificate:
        """A QWAC (TLS client certificate) for a TPP; see `issue_tpp_certificate`."""
        return self.issue_tpp_certificate(name, kind="qwac", **kwargs)

    def issue_qsealc(self, name: str, **kwargs: Any) -> IssuedCertificate:
        """A QSealC (electronic seal, for message signatures) for a TPP."""
        return self.issue_tpp_certificate(name, kind="qsealc", **kwargs)

    def issue_tpp_certificate(
        self,
        name: str,
        *,
        kind: str,
        organization: str,
        organization_id: OrganizationIdentifier,
        roles: Iterable[Psd2Role],
        nca_name: str,
        validity_days: int = 365,
        not_before: dt.datetime | None = None,
        qc_statement: bool = True,
        key_type: str = "ec",
        nca_id: str | None = None,
    ) -> IssuedCertificate:
        """A TPP certificate with the PSD2 QCStatement.

        `qc_statement=False` and an `nca_id` that contradicts `organization_id` exist only so
        that relying parties can be tested against faulty certificates.
        """
        qc_type = QcType.WEB if kind == "qwac" else QcType.ESEAL
        psd2 = Psd2Attributes(frozenset(roles), nca_name, nca_id or organization_id.nca_id)
        subject = subject_name(
            country=organization_id.country,
            org=organization,
            cn=organization,
            org_id=str(organization_id),
        )
        extensions: list[tuple[x509.ExtensionType, bool]] = []
        if qc_statement:
            der = encode_qc_statements(QcStatements(True, frozenset({qc_type}), psd2))
            extensions.append(
                (x509.UnrecognizedExtension(x509.ObjectIdentifier(QC_STATEMENTS_OID), der), False)
            )
        if kind == "qwac":
            extensions.append((x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False))
            usage = end_entity_key_usage(digital_signature=True, content_commitment=False)
        else:
            usage = end_entity_key_usage(digital_signature=True, content_commitment=True)
        extensions.append((usage, True))
        return self._issue(name, kind, subject, extensions, validity_days, not_before, key_type)

    def issue_server_certificate(
        self,
        name: str,
        *,
        dns_names: Iterable[str] = ("localhost",),
        ip_addresses: Iterable[str] = ("127.0.0.1", "::1"),
        organization: str = "Twinrail Sandbox Bank",
        validity_days: int = 365,
    ) -> IssuedCertificate:
        """A TLS server certificate for a sandbox bank, from the same QTSP."""
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
        extensions: list[tuple[x509.ExtensionType, bool]] = [
            (x509.SubjectAlternativeName(sans), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (end_entity_key_usage(digital_signature=True, content_commitment=False), True),
        ]
        subject = subject_name(
            country="DE", org=organization, cn=next(iter(dns_names), organization)
        )
        return self._issue(name, "server", subject, extensions, validity_days, None, "ec")

    def _issue(
        self,
        name: str,
        kind: str,
        subject: x509.Name,
        extensions: list[tuple[x509.ExtensionType, bool]],
        validity_days: int,
        not_before: dt.datetime | None,
        key_type: str,
    ) -> IssuedCertificate:
        issuing, issuing_key = self._issuing_ca()
        key = generate_key(key_type)
        start = not_before or self.clock()
        builder = certificate_builder(
            subject, issuing.subject, key.public_key(), start, days=validity_days
        )
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        builder = builder.add_extension(authority_key_identifier(issuing), critical=False)
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        cert = builder.sign(issuing_key, hashes.SHA256())
        issued = self._paths(name, kind, cert)
        write_key(issued.key_path, key)
        issued.cert_path.write_bytes(pem(cert))
        issued.chain_path.write_bytes(pem(cert) + pem(issuing))
        index = self._read_index()
        index[name] = {"serial": format(cert.serial_number, "x"), "kind": kind, "revoked": None}
        self._write_index(index)
        return issued

    def _paths(self, name: str, kind: str, cert: x509.Certificate) -> IssuedCertificate:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad certificate name {name!r}")
        certs = self.directory / "certs"
        return IssuedCertificate(
            name, kind, cert, certs / f"{name}.pem", certs / f"{name}.key.pem",
            certs / f"{name}.chain.pem",
        )  # fmt: skip

    def load(self, name: str) -> IssuedCertificate:
        """An issued certificate by name."""
        index = self._read_index()
        if name not in index:
            raise UnknownCertificate("no certificate with this name", name=name)
        path = self.directory / "certs" / f"{name}.pem"
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        return self._paths(name, str(index[name]["kind"]), cert)

    def issued(self) -> dict[str, dict[str, Any]]:
        """Every issued certificate: name -> serial, kind and revocation (or None)."""
        return self._read_index()

    # -- revocation ----------------------------------------------------------------------
    def revoke(self, name: str, *, reason: str = "unspecified") -> None:
        """Revoke an issued certificate and re-publish the CRL."""
        crl_reason(reason)  # refuse an unknown reason before changing anything
        index = self._read_index()
        if name not in index:
            raise UnknownCertificate("no certificate with this name", name=name)
        index[name]["revoked"] = {"at": self.clock().isoformat(), "reason": reason}
        self._write_index(index)
        self.publish_crl()

    def publish_crl(self, *, validity_days: int = 365) -> Path:
        """Write the issuing CA's CRL, listing every revoked certificate, and return its path."""
        issuing, issuing_key = self._issuing_ca()
        now = self.clock()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuing.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + dt.timedelta(days=validity_days))
        )
        for entry in self._read_index().values():
            revoked = entry.get("revoked")
            if not revoked:
                continue
            item = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(entry["serial"], 16))
                .revocation_date(dt.datetime.fromisoformat(revoked["at"]))
            )
            reason = crl_reason(revoked["reason"])
            # RFC 5280 §5.3.1: leave the reason out rather than say "unspecified".
            if reason is not x509.ReasonFlags.unspecified:
                item = item.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(item.build())
        crl = builder.sign(issuing_key, hashes.SHA256())
        self.crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        return self.crl_path

    def trust(self) -> QtspTrust:
        """The root, issuing CA and current CRL, as a relying party (a bank) loads them."""
        issuing, _ = self._issuing_ca()
        root = x509.load_pem_x509_certificate(self.root_cert_path.read_bytes())
        crl = x509.load_pem_x509_crl(self.crl_path.read_bytes())
        return QtspTrust(roots=(root,), issuing_cas=(issuing,), crls=(crl,))

    # -- internals -----------------------------------------------------------------------
    def _issuing_ca(self) -> tuple[x509.Certificate, PrivateKey]:
        if not self.is_initialised():
            raise QtspNotInitialised(
                "no QTSP here; run `twinrail pki init`", directory=str(self.directory)
            )
        cert = x509.load_pem_x509_certificate(self.issuing_cert_path.read_bytes())
        key = serialization.load_pem_private_key(
            (self.directory / "issuing-ca.key.pem").read_bytes(), password=None
        )
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return cert, key

    def _read_index(self) -> dict[str, dict[str, Any]]:
        if not self._index_path.exists():
            return {}
        data: dict[str, dict[str, Any]] = json.loads(self._index_path.read_text())
        return data

    def _write_index(self, index: dict[str, dict[str, Any]]) -> None:
        self._index_path.write_text(json.dumps(index, indent=2, sort_keys=True))
