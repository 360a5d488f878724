"""The api and pipeline tables in code match what their migrations create."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import twinrail.api.store.tables  # noqa: F401 - registers the tables on the metadata
import twinrail.pipeline.store.tables  # noqa: F401
from twinrail.platform.db import metadata


def test_the_api_and_pipeline_tables_match_their_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    ours = [d for d in diffs if "api_" in repr(d) or "pipeline_" in repr(d)]
    assert ours == []
