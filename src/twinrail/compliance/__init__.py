"""Compliance: sanctions and watch-list screening (KYC, rules, cases to follow)."""

from twinrail.compliance.domain.errors import ComplianceError
from twinrail.compliance.domain.results import ScreeningHit, ScreeningQuery, ScreeningResult
from twinrail.compliance.service.screening_service import ListLoadReport, ScreeningService

__all__ = [
    "ComplianceError",
    "ScreeningHit",
    "ScreeningQuery",
    "ScreeningResult",
    "ScreeningService",
    "ListLoadReport",
]
