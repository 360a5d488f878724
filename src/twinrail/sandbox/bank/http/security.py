"""Who is calling: the TLS client certificate judged as a QWAC with the role an endpoint needs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from fastapi import Request

from twinrail.openbanking.domain.certificates import (
    QtspTrust,
    TppCertificate,
    check_tpp_certificate,
)
from twinrail.openbanking.domain.errors import CertificateMissing
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.platform.clock import Clock
from twinrail.sandbox.bank.http.mtls import client_certificate

__all__ = ["QtspTrustFiles", "TppAuthenticator"]


class QtspTrustFiles:
    """The QTSP's root, issuing CA and CRL read from disk, the CRL re-read when its file changes."""

    def __init__(self, root: Path, issuing: Path, crl: Path) -> None:
        self.root_path, self.issuing_path, self.crl_path = root, issuing, crl
        self._lock = threading.Lock()
        self._crl_mtime: tuple[int, int] | None = None
        self._trust: QtspTrust | None = None

    @classmethod
    def in_directory(cls, directory: Path) -> QtspTrustFiles:
        """The files `twinrail pki init` wrote in `directory`."""
        return cls(directory / "root-ca.pem", directory / "issuing-ca.pem", directory / "crl.pem")

    def current(self) -> QtspTrust:
        """The trust anchors and the newest CRL."""
        # (mtime, size): a re-published CRL differs in at least one, even within a clock tick.
        stat = self.crl_path.stat() if self.crl_path.exists() else None
        mtime = (stat.st_mtime_ns, stat.st_size) if stat else None
        with self._lock:
            if self._trust is None or mtime != self._crl_mtime:
                root = x509.load_pem_x509_certificate(self.root_path.read_bytes())
                issuing = x509.load_pem_x509_certificate(self.issuing_path.read_bytes())
                crls = (x509.load_pem_x509_crl(self.crl_path.read_bytes()),) if mtime else ()
                self._trust = QtspTrust(roots=(root,), issuing_cas=(issuing,), crls=crls)
                self._crl_mtime = mtime
            return self._trust


class TppAuthenticator:
    """Checks the caller's QWAC; one instance per bank, shared by every endpoint."""

    def __init__(self, trust: Callable[[], QtspTrust], clock: Clock) -> None:
        self.trust = trust
        self.clock = clock

    def authenticate(self, request: Request, role: Psd2Role | None) -> TppCertificate:
        """The TPP behind this request, or the Berlin Group certificate error."""
        cert = client_certificate(dict(request.scope))
        if cert is None:
            raise CertificateMissing("a QWAC is required as TLS client certificate")
        trust = self.trust()
        return check_tpp_certificate(cert, trust, now=self.clock(), required_role=role)
