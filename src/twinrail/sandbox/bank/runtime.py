"""Assemble one sandbox bank from its profile name: database, QTSP trust, server certificate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate, SandboxQtsp
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import create_db_engine
from twinrail.sandbox.bank.http.app import create_bank_app
from twinrail.sandbox.bank.http.mtls import BankServer
from twinrail.sandbox.bank.http.security import QtspTrustFiles
from twinrail.sandbox.bank.service.bank_service import BankService

__all__ = ["SandboxBank", "build_bank", "check_profile_name"]


def check_profile_name(profile: str) -> str:
    """A profile name safe to use in file names."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", profile):
        raise ValueError(f"bad profile name {profile!r} (lower-case letters, digits, - and _)")
    return profile


@dataclass(frozen=True)
class SandboxBank:
    """A ready-to-serve bank: its service, ASGI app and TLS server certificate."""

    profile: str
    service: BankService
    app: FastAPI
    qtsp: SandboxQtsp
    server_certificate: IssuedCertificate

    def server(self, host: str, port: int, log_level: str = "warning") -> BankServer:
        """A mutual-TLS server for this bank."""
        return BankServer(
            self.app,
            host=host,
            port=port,
            certfile=self.server_certificate.chain_path,
            keyfile=self.server_certificate.key_path,
            client_ca_bundle=self.qtsp.ca_bundle_path,
            log_level=log_level,
        )


def build_bank(
    profile: str, *, database_url: str, pki_dir: Path, clock: Clock = utc_now
) -> SandboxBank:
    """Open (and seed, if empty) the bank of `profile`; its server certificate comes from the
    sandbox QTSP in `pki_dir`, issued on first use."""
    check_profile_name(profile)
    qtsp = SandboxQtsp(pki_dir, clock=clock)
    name = f"sandbox-bank-{profile}"
    cert = qtsp.load(name) if name in qtsp.issued() else qtsp.issue_server_certificate(name)
    service = BankService(create_db_engine(database_url), clock=clock)
    if not service.is_seeded():
        service.seed()
    trust = QtspTrustFiles.in_directory(pki_dir)
    app = create_bank_app(service, trust.current, clock)
    return SandboxBank(profile, service, app, qtsp, cert)
