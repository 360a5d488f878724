"""Facts the compliance context publishes through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["ListVersionActivated", "PartyFlagged", "KycProfileChanged", "MovementDecided"]


@dataclass(frozen=True, slots=True)
class ListVersionActivated:
    """A new version of a watch list became the one screening uses."""

    topic: ClassVar[str] = "compliance.list_version_activated"
    list_name: str
    version: int
    entity_count: int
    changed_count: int
    removed_count: int

    @property
    def stream_id(self) -> str:
        return f"compliance-list-{self.list_name}"

    @property
    def stream_version(self) -> int:
        return self.version

    def payload(self) -> dict[str, Any]:
        return {
            "list_name": self.list_name,
            "version": self.version,
            "entity_count": self.entity_count,
            "changed_count": self.changed_count,
            "removed_count": self.removed_count,
        }


@dataclass(frozen=True, slots=True)
class PartyFlagged:
    """A screened party matched a listed entity (at screening or when a list changed)."""

    topic: ClassVar[str] = "compliance.party_flagged"
    party_id: str
    list_name: str
    list_version: int
    entity_id: str
    score: float
    origin: str

    @property
    def stream_id(self) -> str:
        return f"compliance-party-{self.party_id}"

    @property
    def stream_version(self) -> int:
        return 0

    def payload(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "list_name": self.list_name,
            "list_version": self.list_version,
            "entity_id": self.entity_id,
            "score": round(self.score, 4),
            "origin": self.origin,
        }


@dataclass(frozen=True, slots=True)
class KycProfileChanged:
    """A customer's KYC status or tier was set."""

    topic: ClassVar[str] = "compliance.kyc_profile_changed"
    customer_id: str
    status: str
    tier: int
    version: int

    @property
    def stream_id(self) -> str:
        return f"compliance-kyc-{self.customer_id}"

    @property
    def stream_version(self) -> int:
        return self.version

    def payload(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "status": self.status,
            "tier": self.tier,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class MovementDecided:
    """The engine decided on a movement: allow, review or block, with its reason codes."""

    topic: ClassVar[str] = "compliance.movement_decided"
    decision_id: str
    order_id: str
    customer_id: str
    outcome: str
    codes: tuple[str, ...]

    @property
    def stream_id(self) -> str:
        return f"compliance-decision-{self.decision_id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "outcome": self.outcome,
            "codes": list(self.codes),
        }
