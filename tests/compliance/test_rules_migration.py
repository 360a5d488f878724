"""The rules migration reverses cleanly and its tables match the code (both databases)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

import twinrail.compliance.store.tables  # noqa: F401 - registers the tables on the metadata
from twinrail.platform.migrate import alembic_config, upgrade

RULES_TABLES = {
    "compliance_movement_facts",
    "compliance_rule_evaluations",
    "compliance_risk_scores",
    "compliance_travel_rule_records",
}


def test_the_rules_migration_creates_its_tables(engine: Engine) -> None:
    assert RULES_TABLES <= set(inspect(engine).get_table_names())


def test_the_rules_migration_downgrades_and_upgrades_again(sqlite_engine: Engine) -> None:
    config = alembic_config()
    with sqlite_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "compliance_rules_0001-1")
    tables = set(inspect(sqlite_engine).get_table_names())
    assert not RULES_TABLES & tables and "compliance_decisions" in tables
    upgrade(sqlite_engine)
    assert RULES_TABLES <= set(inspect(sqlite_engine).get_table_names())
