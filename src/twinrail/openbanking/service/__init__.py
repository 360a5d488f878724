"""Application layer of open banking: the sandbox test QTSP, and signing a TPP's requests."""

from twinrail.openbanking.service.request_signer import RequestSigner, SigningAuth
from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate, SandboxQtsp

__all__ = ["IssuedCertificate", "RequestSigner", "SandboxQtsp", "SigningAuth"]
