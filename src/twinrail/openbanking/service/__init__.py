"""Application layer of open banking: the sandbox test QTSP."""

from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate, SandboxQtsp

__all__ = ["IssuedCertificate", "SandboxQtsp"]
