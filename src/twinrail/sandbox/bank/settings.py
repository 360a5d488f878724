"""The sandbox bank's settings (`TWINRAIL_SANDBOX_BANK_*`), kept out of the shared class."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SandboxBankSettings"]


class SandboxBankSettings(BaseSettings):
    """Where a sandbox bank keeps its database and where it listens."""

    model_config = SettingsConfigDict(env_prefix="TWINRAIL_", env_file=".env", extra="ignore")

    sandbox_bank_dir: Path = Field(
        default=Path("var/sandbox-bank"), description="One SQLite database per bank profile."
    )
    sandbox_bank_profiles_dir: Path | None = Field(
        default=None, description="Extra bank profiles (<name>.yaml), searched before the shipped."
    )
    sandbox_bank_host: str = "127.0.0.1"
    sandbox_bank_port: int = 8443
    sandbox_bank_sandbox_phone: bool = Field(
        default=True,
        description="Serve /psu/phone/<psu>: the SCA codes 'sent by SMS' (sandbox only).",
    )

    def database_url(self, profile: str) -> str:
        """The SQLite URL of the bank running `profile`."""
        return f"sqlite:///{(self.sandbox_bank_dir / f'{profile}.db').resolve()}"
