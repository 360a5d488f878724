"""The notify tables in code match what the notify_0001 migration creates."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import twinrail.notify.store.tables  # noqa: F401 - registers the tables on the metadata
from twinrail.platform.db import metadata


def test_the_notify_tables_match_their_migration(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if "notify_" in repr(d)] == []
