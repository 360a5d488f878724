"""The api context's settings, from `TWINRAIL_API_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings"]


class ApiSettings(BaseSettings):
    """How the HTTP API serves: address, token lifetime, rate limits, idempotency window."""

    model_config = SettingsConfigDict(env_prefix="TWINRAIL_API_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    issuer: str = Field(default="twinrail", description="JWT `iss` and `aud`.")
    token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    rate_per_second: float = Field(default=50.0, gt=0, description="Token bucket refill rate.")
    rate_burst: int = Field(default=100, ge=1, description="Token bucket size.")
    redis_url: str = Field(default="", description="redis://127.0.0.1:6379/0 to share buckets.")
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    idempotency_lease_seconds: int = Field(default=60, ge=1)
    readiness_timeout_seconds: float = 2.0
    group_commit: bool = Field(default=True, description="Share ledger commits among requests.")
