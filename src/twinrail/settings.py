"""The one settings class: everything configurable comes from `TWINRAIL_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Runtime configuration; the defaults are the embedded set-up (SQLite, in-process bus)."""

    model_config = SettingsConfigDict(env_prefix="TWINRAIL_", env_file=".env", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="Where embedded state lives.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite at <var_dir>/twinrail.db."
    )
    bus_url: str = Field(
        default="inproc://", description="inproc:// or nats://host:port (JetStream)."
    )
    bus_stream: str = Field(default="TWINRAIL", description="JetStream stream for events.")
    log_level: str = "INFO"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file under `var_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'twinrail.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
