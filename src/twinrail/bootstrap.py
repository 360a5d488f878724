"""Wiring: settings in, ready-to-use services out. The one place that picks implementations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import Settings, get_settings

__all__ = ["Platform", "bootstrap"]


@dataclass(frozen=True)
class Platform:
    settings: Settings
    engine: Engine
    ledger: LedgerService


def bootstrap(
    settings: Settings | None = None, *, clock: Clock = utc_now, migrate: bool = True
) -> Platform:
    """Build the engine (migrating it to the latest schema) and the services on top of it."""
    settings = settings or get_settings()
    engine = create_db_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    return Platform(settings, engine, LedgerService(engine, clock=clock))
