"""The compliance services behind the API, the CLI and the worker, wired the standard way."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from twinrail.compliance.adapters.simulated_kyc import SimulatedKycProvider
from twinrail.compliance.service.cases_service import CaseService
from twinrail.compliance.service.false_positive_service import FalsePositiveService
from twinrail.compliance.service.kyc_provider_service import (
    KycProvider,
    KycProviderSettings,
    KycVerificationService,
)
from twinrail.compliance.service.kyc_service import KycService
from twinrail.compliance.service.party_screening_service import PartyScreeningService
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.platform.clock import Clock, utc_now

__all__ = ["ComplianceServices", "build_compliance_services"]


@dataclass
class ComplianceServices:
    """Cases, KYC verification, parties and false positives over one database."""

    engine: Engine
    screening: ScreeningService
    kyc: KycService
    verifications: KycVerificationService
    parties: PartyScreeningService
    false_positives: FalsePositiveService
    cases: CaseService
    provider: KycProvider


def build_compliance_services(
    engine: Engine,
    screening: ScreeningService | None = None,
    *,
    settings: KycProviderSettings | None = None,
    provider_http: httpx.Client | None = None,
    auto_deliver: bool = False,
    clock: Clock = utc_now,
) -> ComplianceServices:
    """The services with the simulated KYC provider, calling back over `provider_http`."""
    settings = settings or KycProviderSettings()
    screening = screening or ScreeningService(engine, clock=clock)
    secret = _simulated_secret(engine, settings)
    provider = SimulatedKycProvider(
        secret,
        provider_http,
        document_validity=dt.timedelta(days=settings.document_validity_days),
        clock=clock,
        auto_deliver=auto_deliver,
    )
    verifications = KycVerificationService(
        engine, {provider.name: provider}, {provider.name: secret},
        callback_base_url=settings.callback_base_url, clock=clock,
    )  # fmt: skip
    return ComplianceServices(
        engine=engine,
        screening=screening,
        kyc=KycService(engine, clock=clock),
        verifications=verifications,
        parties=PartyScreeningService(engine, screening, clock=clock),
        false_positives=FalsePositiveService(engine, clock=clock),
        cases=CaseService(engine, clock=clock),
        provider=provider,
    )


def _simulated_secret(engine: Engine, settings: KycProviderSettings) -> bytes:
    """The configured secret, else one every process on this database derives alike (the
    simulated provider runs in the API's processes and may call back into another one)."""
    if settings.simulated_secret is not None:
        return settings.simulated_secret.get_secret_value().encode()
    url = engine.url.render_as_string(hide_password=False).encode()
    return hashlib.sha256(b"twinrail simulated kyc callbacks\0" + url).hexdigest().encode()
