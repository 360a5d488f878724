"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when configured.

PostgreSQL tests read TWINRAIL_TEST_POSTGRES_URL (an admin URL, e.g.
postgresql://postgres@127.0.0.1:5432/postgres); each test session creates its own database and
drops it afterwards. Without the URL they skip, except when CI=true, where they must run.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.db import create_db_engine, normalise_url
from twinrail.platform.migrate import upgrade

# Tests never write a webhook-secret key file into ./var: a fixed, test-only key instead.
os.environ.setdefault("TWINRAIL_NOTIFY_SECRET_KEY", "dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LTMyYiE=")

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("TWINRAIL_TEST_POSTGRES_URL", "")
NATS_URL = os.environ.get("TWINRAIL_TEST_NATS_URL", "")


def require_service(url: str, name: str) -> None:
    """Skip without the service locally; fail in CI, where every service must be exercised."""
    if url:
        return
    if IN_CI:
        pytest.fail(f"{name} tests are mandatory in CI but no URL is configured")
    pytest.skip(f"{name} not configured")


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    require_service(POSTGRES_URL, "PostgreSQL")
    return POSTGRES_URL


def _database_url(admin_url: str, name: str) -> str:
    base = normalise_url(admin_url).rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_database(postgres_admin_url: str) -> Iterator[str]:
    """A migrated database of this test session's own, dropped at the end."""
    name = f"twinrail_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(postgres_admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _database_url(postgres_admin_url, name)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    """A migrated, empty database: SQLite in a temp dir, or this session's PostgreSQL database."""
    if request.param == "sqlite":
        eng = create_db_engine(f"sqlite:///{tmp_path}/twinrail.db")
        upgrade(eng)
    else:
        url = request.getfixturevalue("postgres_database")
        eng = create_db_engine(url)
        _truncate_postgres(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    eng = create_db_engine(f"sqlite:///{tmp_path}/twinrail.db")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ledger(engine: Engine, clock: ManualClock) -> LedgerService:
    return LedgerService(engine, clock=clock, actor="test")
