"""The compliance tables in code match what their migrations create, and the new one reverses."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import twinrail.compliance.store.tables  # noqa: F401 - registers the tables on the metadata
from twinrail.platform.db import metadata
from twinrail.platform.migrate import alembic_config, upgrade

NEW_TABLES = {"compliance_kyc_profiles", "compliance_approved_movements", "compliance_decisions"}


def test_the_compliance_tables_match_their_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if "compliance_" in repr(d)] == []


def test_the_kyc_and_decision_migration_downgrades_and_upgrades_again(
    sqlite_engine: Engine,
) -> None:
    config = alembic_config()
    with sqlite_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "compliance_0001")
    assert not NEW_TABLES & set(inspect(sqlite_engine).get_table_names())
    upgrade(sqlite_engine)
    assert NEW_TABLES <= set(inspect(sqlite_engine).get_table_names())
