"""A customer's risk score (0-100) from KYC and rule hits, and what it asks of a decision.

The score adds explained factors: the KYC status and tier, a customer country on the rule set's
high-risk list, the severity points of the rules firing now, and a share of the points the
customer's rule hits earned in the recent past (so a pattern keeps counting after one order).
It is capped at 100. At `review_at` the decision goes to review; at `block_at` (if set) it blocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.kyc import KycProfile, KycStatus, Tier
from twinrail.compliance.domain.rules import RuleHit, Severity

__all__ = ["RiskModel", "RiskFactor", "RiskScore", "score_risk", "rule_points", "MAX_SCORE"]

MAX_SCORE = 100


def _default_severity_points() -> dict[Severity, int]:
    return {Severity.LOW: 5, Severity.MEDIUM: 15, Severity.HIGH: 30, Severity.CRITICAL: 60}


def _default_status_points() -> dict[KycStatus, int]:
    return {
        KycStatus.UNVERIFIED: 20,
        KycStatus.PENDING: 15,
        KycStatus.VERIFIED: 0,
        KycStatus.EXPIRED: 20,
        KycStatus.REJECTED: 100,
    }


def _default_tier_points() -> dict[Tier, int]:
    return {Tier.BASIC: 10, Tier.IDENTITY: 0, Tier.ENHANCED: 0}


@dataclass(frozen=True, slots=True)
class RiskModel:
    """The weights of every factor and the thresholds that act on the score."""

    review_at: int = 60
    block_at: int | None = None
    severity_points: Mapping[Severity, int] = field(default_factory=_default_severity_points)
    status_points: Mapping[KycStatus, int] = field(default_factory=_default_status_points)
    tier_points: Mapping[Tier, int] = field(default_factory=_default_tier_points)
    high_risk_country_points: int = 25
    high_risk_list: str = ""
    history_window: dt.timedelta = dt.timedelta(days=90)
    history_percent: int = 50  # share of past rule points that still counts


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """One contribution to the score and why."""

    name: str
    points: int
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "points": self.points, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class RiskScore:
    """The score, its band, and the factors that add up to it."""

    score: int
    factors: tuple[RiskFactor, ...]
    review_at: int
    block_at: int | None

    @property
    def outcome(self) -> Outcome:
        if self.block_at is not None and self.score >= self.block_at:
            return Outcome.BLOCK
        return Outcome.REVIEW if self.score >= self.review_at else Outcome.ALLOW

    @property
    def band(self) -> str:
        return {Outcome.ALLOW: "low", Outcome.REVIEW: "high", Outcome.BLOCK: "severe"}[self.outcome]

    @property
    def detail(self) -> str:
        parts = ", ".join(f"{f.name}+{f.points}" for f in self.factors if f.points)
        return f"score {self.score} (review at {self.review_at}): {parts}"

    def to_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "band": self.band,
            "review_at": self.review_at,
            "block_at": self.block_at,
            "factors": [f.to_dict() for f in self.factors],
        }


def score_risk(
    model: RiskModel,
    profile: KycProfile,
    hits: Iterable[RuleHit],
    *,
    customer_country: str | None = None,
    high_risk_countries: frozenset[str] = frozenset(),
    past_rule_points: int = 0,
) -> RiskScore:
    """The customer's score now: KYC, country, this movement's rule hits, and recent history."""
    factors = [
        RiskFactor("kyc_status", model.status_points.get(profile.status, 0), profile.status.value),
        RiskFactor("kyc_tier", model.tier_points.get(profile.tier, 0), f"tier {int(profile.tier)}"),
    ]
    country = (customer_country or "").strip().upper()
    if country and country in high_risk_countries:
        factors.append(
            RiskFactor("customer_country", model.high_risk_country_points, f"{country} listed")
        )
    for hit in hits:
        points = model.severity_points.get(hit.severity, 0)
        factors.append(RiskFactor(f"rule:{hit.rule_id}", points, hit.severity.value))
    if past_rule_points > 0:
        share = past_rule_points * model.history_percent // 100
        days = model.history_window.days
        factors.append(
            RiskFactor("rule_history", share, f"{past_rule_points} points in {days} days")
        )
    score = min(MAX_SCORE, max(0, sum(f.points for f in factors)))
    return RiskScore(score, tuple(factors), model.review_at, model.block_at)


def rule_points(model: RiskModel, hits: Iterable[RuleHit]) -> int:
    """The severity points a set of hits earns (stored per movement for the history factor)."""
    return sum(model.severity_points.get(h.severity, 0) for h in hits)
