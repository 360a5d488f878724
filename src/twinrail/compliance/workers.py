"""The compliance context's background work for `twinrail worker`: case alerts from the outbox
(a bus subscription, idempotent per event) and the KYC document-expiry sweep (leased)."""

from __future__ import annotations

from sqlalchemy import Engine

from twinrail.compliance.service.cases_service import CaseService
from twinrail.compliance.service.wiring import build_compliance_services
from twinrail.platform.bus import Bus
from twinrail.platform.lease import lease_for
from twinrail.runtime.loops import PeriodicLoop

__all__ = ["build_compliance_loops"]


def build_compliance_loops(
    engine: Engine, bus: Bus, *, interval: float = 60.0
) -> list[PeriodicLoop]:
    """Subscribe the case consumer to `bus`; the loops to run (the expiry sweep)."""
    CaseService(engine).subscribe(bus)  # before the relay publishes anything
    verifications = build_compliance_services(engine).verifications
    return [
        PeriodicLoop(
            "kyc-document-expiry",
            lambda: len(verifications.expire_documents()),
            interval,
            lease=lease_for(engine, "kyc-document-expiry"),
        )
    ]
