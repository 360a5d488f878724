"""A bank database written before the SCA columns existed is seeded again, not half-read."""

from __future__ import annotations

from twinrail.platform.db import create_db_engine
from twinrail.sandbox.bank.service.bank_service import BankService


def test_a_bank_database_without_the_sca_columns_counts_as_unseeded(tmp_path):
    service = BankService(create_db_engine(f"sqlite:///{tmp_path}/old.db"))
    service.seed()
    assert service.is_seeded()
    with service.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE authorisations DROP COLUMN nok_redirect_uri")
    assert not service.is_seeded()
    service.seed()
    assert service.is_seeded()
