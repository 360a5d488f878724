"""The compliance context's settings (`TWINRAIL_COMPLIANCE_*`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from twinrail.compliance.domain.kyc import LimitSchedule, Tier, TierLimits

__all__ = ["ComplianceSettings", "TierLimitsConfig"]


class TierLimitsConfig(BaseModel):
    """One tier's limits in whole EUR (cents allowed as decimals)."""

    per_transaction: Decimal = Field(ge=0)
    per_day: Decimal = Field(ge=0)
    per_30_days: Decimal = Field(ge=0)

    def to_domain(self) -> TierLimits:
        return TierLimits(
            int(self.per_transaction * 100), int(self.per_day * 100), int(self.per_30_days * 100)
        )


def _tier(per_transaction: int, per_day: int, per_30_days: int) -> TierLimitsConfig:
    return TierLimitsConfig(
        per_transaction=Decimal(per_transaction),
        per_day=Decimal(per_day),
        per_30_days=Decimal(per_30_days),
    )


def _default_tiers() -> dict[int, TierLimitsConfig]:
    return {
        0: _tier(150, 250, 1_000),
        1: _tier(10_000, 15_000, 50_000),
        2: _tier(100_000, 250_000, 1_000_000),
    }


class ComplianceSettings(BaseSettings):
    """Screening thresholds, tier limits and the interim EUR price table."""

    model_config = SettingsConfigDict(
        env_prefix="TWINRAIL_COMPLIANCE_", env_file=".env", extra="ignore"
    )

    screening_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    list_thresholds: dict[str, float] = Field(
        default_factory=dict, description='per list, e.g. {"ofac-sdn": 0.82} (JSON in the env)'
    )
    name_block_score: float = Field(
        default=0.95, ge=0.0, le=1.0, description="a counterparty name hit at least this blocks"
    )
    limits_version: str = "limits-v1"
    tier_limits: dict[int, TierLimitsConfig] = Field(default_factory=_default_tiers)
    prices_eur: dict[str, Decimal] = Field(
        default_factory=lambda: {"EUR": Decimal(1), "USDC": Decimal("0.92"), "ETH": Decimal(3000)}
    )
    asset_decimals: dict[str, int] = Field(default_factory=lambda: {"EUR": 2, "USDC": 6, "ETH": 18})
    rule_set_path: str | None = Field(
        default=None, description="a rule-set YAML file (default: the shipped rule set)"
    )
    shadow_rule_set_path: str | None = Field(
        default=None, description="a candidate rule set run in shadow mode beside the live one"
    )

    def threshold_for(self, list_name: str) -> float:
        """The threshold hits on `list_name` must reach."""
        return self.list_thresholds.get(list_name, self.screening_threshold)

    def limit_schedule(self) -> LimitSchedule:
        """The tier limits as the domain uses them (every tier must be configured)."""
        return LimitSchedule(
            self.limits_version, {Tier(t): c.to_domain() for t, c in self.tier_limits.items()}
        )
