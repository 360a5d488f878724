"""The compliance context's settings (`TWINRAIL_COMPLIANCE_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ComplianceSettings"]


class ComplianceSettings(BaseSettings):
    """Screening thresholds: one default and optional per-list overrides."""

    model_config = SettingsConfigDict(
        env_prefix="TWINRAIL_COMPLIANCE_", env_file=".env", extra="ignore"
    )

    screening_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    list_thresholds: dict[str, float] = Field(
        default_factory=dict, description='per list, e.g. {"ofac-sdn": 0.82} (JSON in the env)'
    )

    def threshold_for(self, list_name: str) -> float:
        """The threshold hits on `list_name` must reach."""
        return self.list_thresholds.get(list_name, self.screening_threshold)
