"""Compliance: sanctions screening, KYC tiers and limits, and the decision on every movement
(rules, travel rule and cases to follow)."""

from twinrail.compliance.domain.decision import Counterparty, MovementDecision, Outcome, Reason
from twinrail.compliance.domain.errors import ComplianceError
from twinrail.compliance.domain.kyc import KycProfile, KycStatus, Tier
from twinrail.compliance.domain.results import ScreeningHit, ScreeningQuery, ScreeningResult
from twinrail.compliance.service.decision_service import (
    DecideMovement,
    DecisionService,
    RecordedDecision,
)
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.compliance.service.screening_service import ListLoadReport, ScreeningService

__all__ = [
    "ComplianceError",
    "ScreeningHit",
    "ScreeningQuery",
    "ScreeningResult",
    "ScreeningService",
    "ListLoadReport",
    "KycProfile",
    "KycStatus",
    "Tier",
    "KycService",
    "SetKycProfile",
    "Counterparty",
    "Outcome",
    "Reason",
    "MovementDecision",
    "DecideMovement",
    "RecordedDecision",
    "DecisionService",
]
