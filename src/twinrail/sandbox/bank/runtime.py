"""Assemble one sandbox bank from its profile name: database, QTSP trust, server certificate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate, SandboxQtsp
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import create_db_engine
from twinrail.sandbox.bank.domain.authorisation import ScaApproach, ScaPolicy
from twinrail.sandbox.bank.http.app import create_bank_app
from twinrail.sandbox.bank.http.faults import FaultInjector
from twinrail.sandbox.bank.http.mtls import BankServer
from twinrail.sandbox.bank.http.sca_pages import create_psu_app
from twinrail.sandbox.bank.http.security import QtspTrustFiles
from twinrail.sandbox.bank.profile import BankProfile, load_profile
from twinrail.sandbox.bank.service.bank_service import BankService
from twinrail.sandbox.bank.service.psu_sca_service import PsuScaService

__all__ = ["SandboxBank", "build_bank", "check_profile_name", "sca_policy_of"]


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
    behaviour: BankProfile = BankProfile(name="default")  # what its profile file says
    asgi: Any = None  # what the server runs: `app` behind the profile's gateway faults
    psu_app: Any = None  # the PSU's pages (redirect SCA, banking app), served on their own port

    def server(self, host: str, port: int, log_level: str = "warning") -> BankServer:
        """A mutual-TLS server for this bank."""
        return BankServer(
            self.asgi or self.app,
            host=host,
            port=port,
            certfile=self.server_certificate.chain_path,
            keyfile=self.server_certificate.key_path,
            client_ca_bundle=self.qtsp.ca_bundle_path,
            log_level=log_level,
        )

    def psu_server(self, host: str, port: int, log_level: str = "warning") -> BankServer:
        """A TLS server for the PSU's pages: the bank's certificate, no client certificate."""
        return BankServer(
            self.psu_app,
            host=host,
            port=port,
            certfile=self.server_certificate.chain_path,
            keyfile=self.server_certificate.key_path,
            client_ca_bundle=None,
            log_level=log_level,
        )

    def start_psu_pages(self, host: str, port: int, public_url: str | None = None) -> BankServer:
        """Serve the PSU's pages from a thread; `scaRedirect` links point at them from now on."""
        server = self.psu_server(host, port)
        bound = server.start_in_thread()
        self.app.state.psu_base_url = public_url or f"https://{host}:{bound}"
        return server


def sca_policy_of(profile: BankProfile) -> ScaPolicy:
    """The SCA policy a bank profile describes."""
    return ScaPolicy(
        approaches=frozenset(ScaApproach(a.upper()) for a in profile.sca_approaches),
        default_approach=ScaApproach(profile.default_sca_approach.upper()),
        exemptions=profile.sca_exemptions,
    )


def build_bank(
    profile: str,
    *,
    database_url: str,
    pki_dir: Path,
    clock: Clock = utc_now,
    bank_profile: BankProfile | None = None,
    sca_policy: ScaPolicy | None = None,
    sandbox_phone: bool = True,
) -> SandboxBank:
    """Open (and seed, if empty) the bank of `profile`; its server certificate comes from the
    sandbox QTSP in `pki_dir`, issued on first use. Its behaviour is `bank_profile`, else the
    profile file named `profile` (defaults when there is none)."""
    check_profile_name(profile)
    behaviour = bank_profile or load_profile(profile)[0]
    qtsp = SandboxQtsp(pki_dir, clock=clock)
    name = f"sandbox-bank-{profile}"
    cert = qtsp.load(name) if name in qtsp.issued() else qtsp.issue_server_certificate(name)
    policy = sca_policy or sca_policy_of(behaviour)
    service = BankService(create_db_engine(database_url), clock=clock, sca_policy=policy)
    if not service.is_seeded():
        service.seed()
    trust = QtspTrustFiles.in_directory(pki_dir)
    app = create_bank_app(service, trust.current, clock, behaviour)
    asgi = FaultInjector(app, behaviour, clock)
    psu_app = create_psu_app(
        PsuScaService(service, app.state.payments), show_sandbox_phone=sandbox_phone
    )
    return SandboxBank(profile, service, app, qtsp, cert, behaviour, asgi, psu_app=psu_app)
