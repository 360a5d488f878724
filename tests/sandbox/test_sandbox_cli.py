"""`twinrail sandbox-bank` resets the bank's data and runs the bank as its own process."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.openbanking.pki_builders import issue_tpp, new_qtsp
from tests.sandbox.profile_banks import cli_bank_answer
from twinrail.cli.sandbox_cli import app
from twinrail.platform.db import create_db_engine
from twinrail.sandbox.bank.service.bank_service import BankService


def test_seed_resets_the_bank_to_the_seeded_customers(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINRAIL_SANDBOX_BANK_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["--profile", "cli", "seed"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["profile"] == "cli" and summary["accounts"] == 4
    assert summary["logins"]["alice"] == {"password": "alice-sandbox", "otp": "123456"}
    service = BankService(create_db_engine(f"sqlite:///{tmp_path}/cli.db"))
    service.create_consent("PSDDE-BAFIN-1", None, {
        "access": {"allPsd2": "allAccounts"}, "recurringIndicator": True,
        "validUntil": "2099-01-01", "frequencyPerDay": 4,
    })  # fmt: skip
    assert CliRunner().invoke(app, ["--profile", "cli", "seed"]).exit_code == 0
    with service.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM consents").scalar() == 0


def test_a_bad_profile_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINRAIL_SANDBOX_BANK_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["--profile", "../etc", "seed"])
    assert result.exit_code != 0


def test_the_bank_runs_as_its_own_process_with_mutual_tls(tmp_path):
    qtsp = new_qtsp(tmp_path / "pki")
    qwac = issue_tpp(qtsp, "proc-tpp")
    response = cli_bank_answer("proc", qtsp, qwac, tmp_path / "bank", "/v1/accounts")
    assert response.status_code == 400  # reached the app: only the Consent-ID is missing
    assert response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"
    assert (tmp_path / "bank" / "proc.db").exists()
