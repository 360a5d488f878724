"""Facts about review cases and KYC verifications that compliance publishes through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["ReviewDecided", "CaseOpened", "VerificationStarted"]


@dataclass(frozen=True, slots=True)
class ReviewDecided:
    """A case's final decision on one of its orders: the pipeline resumes or rejects it."""

    topic: ClassVar[str] = "compliance.review_decided"
    case_id: str
    decision_id: str
    order_id: str
    client_id: str
    verdict: str  # "allow" | "block"
    reasons: tuple[str, ...]
    decided_by: tuple[str, ...]

    @property
    def stream_id(self) -> str:
        return f"compliance-review-{self.order_id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "client_id": self.client_id,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "decided_by": list(self.decided_by),
            "case_id": self.case_id,
            "decision_id": self.decision_id,
        }


@dataclass(frozen=True, slots=True)
class CaseOpened:
    """A review case was opened for a customer."""

    topic: ClassVar[str] = "compliance.case_opened"
    case_id: str
    customer_id: str

    @property
    def stream_id(self) -> str:
        return f"compliance-case-{self.case_id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "customer_id": self.customer_id}


@dataclass(frozen=True, slots=True)
class VerificationStarted:
    """A customer's identity verification started at a KYC provider."""

    topic: ClassVar[str] = "compliance.verification_started"
    verification_id: str
    customer_id: str
    provider: str

    @property
    def stream_id(self) -> str:
        return f"compliance-verification-{self.verification_id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return {
            "verification_id": self.verification_id,
            "customer_id": self.customer_id,
            "provider": self.provider,
        }
