"""The notify context's settings, from `TWINRAIL_NOTIFY_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from twinrail.notify.domain.model import RetryPolicy

__all__ = ["NotifySettings"]


class NotifySettings(BaseSettings):
    """How webhooks are stored, signed and sent."""

    model_config = SettingsConfigDict(
        env_prefix="TWINRAIL_NOTIFY_", env_file=".env", extra="ignore"
    )

    secret_key: str = Field(
        default="",
        description="Base64 of 32 bytes encrypting endpoint secrets; empty: a key file in var_dir.",
    )
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: list(RetryPolicy().delays),
        description="Delay before each retry; after the last retry fails the delivery is dead.",
    )
    retry_jitter: float = Field(default=0.2, ge=0, le=1)
    timeout_seconds: float = Field(default=5.0, gt=0, le=30, description="Per HTTP attempt.")
    per_endpoint_concurrency: int = Field(default=2, ge=1, le=50)
    max_workers: int = Field(default=16, ge=1, le=256, description="Sender threads in total.")
    batch_size: int = Field(default=200, ge=1)
    allow_private_networks: bool = Field(
        default=False,
        description="Let endpoints resolve to private, loopback or link-local addresses "
        "(development and tests only).",
    )
    rotation_grace_hours: float = Field(
        default=24.0, ge=0, description="How long the old secret still signs after a rotation."
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(tuple(self.retry_delays_seconds), self.retry_jitter)
