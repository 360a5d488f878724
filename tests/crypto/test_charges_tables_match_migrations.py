"""The charge and sweep tables in code match their migration, which also reverses cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import twinrail.crypto.store.tables  # noqa: F401 - registers the tables on the metadata
from twinrail.platform.db import metadata
from twinrail.platform.migrate import alembic_config, upgrade

NEW_TABLES = {"crypto_charges", "crypto_sweeps"}


def test_the_charge_and_sweep_tables_match_their_migration(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if "crypto_charges" in repr(d) or "crypto_sweeps" in repr(d)] == []


def test_the_charges_migration_downgrades_and_upgrades_again(sqlite_engine: Engine) -> None:
    config = alembic_config()
    with sqlite_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "crypto_charges_0001@-1")
    tables = set(inspect(sqlite_engine).get_table_names())
    assert not NEW_TABLES & tables
    assert "crypto_deposits" in tables  # only this branch's step was undone
    upgrade(sqlite_engine)
    assert NEW_TABLES <= set(inspect(sqlite_engine).get_table_names())
