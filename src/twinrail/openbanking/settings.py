"""Open banking's settings (`TWINRAIL_PKI_DIR`, ...), kept out of the shared settings class."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["OpenBankingSettings"]


class OpenBankingSettings(BaseSettings):
    """Where the sandbox QTSP keeps its CAs and issued certificates."""

    model_config = SettingsConfigDict(env_prefix="TWINRAIL_", env_file=".env", extra="ignore")

    pki_dir: Path = Field(default=Path("var/pki"), description="The test QTSP's directory.")
