"""Customers' KYC status and tier, and the EUR limits each tier allows.

Only a `verified` customer gets the limits of their assigned tier; every other status is held to
tier 0 (a tier is earned by verification, so a lapsed or pending one cannot use it). A
`rejected` customer may not move money at all (the decision blocks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from twinrail.compliance.domain.errors import InvalidKycProfile

__all__ = [
    "KycStatus",
    "Tier",
    "TierLimits",
    "LimitSchedule",
    "KycProfile",
    "unverified_profile",
    "effective_tier",
    "check_profile_is_valid",
]


class KycStatus(StrEnum):
    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Tier(IntEnum):
    BASIC = 0  # email only: tiny limits
    IDENTITY = 1  # identity verified
    ENHANCED = 2  # enhanced due diligence, source of funds


@dataclass(frozen=True, slots=True)
class TierLimits:
    """Ceilings in EUR cents: one movement, a rolling 24 hours, a rolling 30 days."""

    per_transaction: int
    per_day: int
    per_30_days: int


@dataclass(frozen=True, slots=True)
class LimitSchedule:
    """The limits of every tier under one version label (stored with each decision)."""

    version: str
    tiers: Mapping[Tier, TierLimits]

    def for_tier(self, tier: Tier) -> TierLimits:
        return self.tiers[tier]


@dataclass(frozen=True, slots=True)
class KycProfile:
    """A customer's KYC status and assigned tier, keyed by the pipeline's customer id."""

    customer_id: str
    status: KycStatus
    tier: Tier
    updated_at: dt.datetime | None = None
    version: int = 0  # 0: never stored


def unverified_profile(customer_id: str) -> KycProfile:
    """The profile of a customer compliance has not heard of: unverified, tier 0."""
    return KycProfile(customer_id, KycStatus.UNVERIFIED, Tier.BASIC)


def effective_tier(profile: KycProfile) -> Tier:
    """The tier whose limits apply: the assigned one only when verified, else tier 0."""
    return profile.tier if profile.status is KycStatus.VERIFIED else Tier.BASIC


def check_profile_is_valid(customer_id: str, status: str, tier: int) -> tuple[KycStatus, Tier]:
    """The typed status and tier, or InvalidKycProfile."""
    if not customer_id.strip():
        raise InvalidKycProfile("a customer id is required")
    try:
        kyc_status = KycStatus(status)
    except ValueError:
        raise InvalidKycProfile("unknown KYC status", status=status) from None
    try:
        kyc_tier = Tier(tier)
    except ValueError:
        raise InvalidKycProfile("unknown tier", tier=tier) from None
    return kyc_status, kyc_tier
