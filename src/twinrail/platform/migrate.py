"""Schema migrations (Alembic) for SQLite and PostgreSQL, run from code rather than an ini file."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData

from twinrail.platform.db import metadata

__all__ = ["upgrade", "alembic_config", "target_metadata"]

_HERE = Path(__file__).parent / "migrations"


def target_metadata() -> MetaData:
    """Every context's tables, imported so that they register on the shared metadata."""
    import twinrail.api.store.tables  # noqa: F401
    import twinrail.audit.store.tables  # noqa: F401
    import twinrail.compliance.store.tables  # noqa: F401
    import twinrail.crypto.store.tables  # noqa: F401
    import twinrail.ledger.store.tables  # noqa: F401
    import twinrail.notify.store.tables  # noqa: F401
    import twinrail.pipeline.store.tables  # noqa: F401
    import twinrail.platform.outbox  # noqa: F401

    return metadata


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database schema up to `revision` (all heads by default)."""
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
