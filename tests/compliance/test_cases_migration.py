"""The cases / KYC-verification / owners / false-positive tables: their migration reverses."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from twinrail.platform.migrate import alembic_config, upgrade

CASE_TABLES = {
    "compliance_kyc_verifications",
    "compliance_beneficial_owners",
    "compliance_false_positive_marks",
    "compliance_cases",
    "compliance_case_alerts",
    "compliance_case_notes",
    "compliance_case_decisions",
}


def test_the_cases_migration_downgrades_and_upgrades_again(sqlite_engine: Engine) -> None:
    assert CASE_TABLES <= set(inspect(sqlite_engine).get_table_names())
    config = alembic_config()
    with sqlite_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "compliance_cases_0001-1")
    assert not CASE_TABLES & set(inspect(sqlite_engine).get_table_names())
    assert "compliance_decisions" in inspect(sqlite_engine).get_table_names()
    upgrade(sqlite_engine)
    assert CASE_TABLES <= set(inspect(sqlite_engine).get_table_names())
