"""The ledger on the command line: JSON for programs, one readable line and exit 1 on bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from twinrail.cli.main import app
from twinrail.settings import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def embedded_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def twinrail(command: str) -> Result:
    """Run `twinrail <command>` (arguments split on spaces)."""
    return runner.invoke(app, command.split())


@pytest.fixture
def books() -> None:
    """EUR, a bank account and Alice's account, which may not be overdrawn."""
    for command in (
        "ledger define-asset EUR 2",
        "ledger open-account bank --asset EUR --code 1000 --name Bank --side debit",
        "ledger open-account alice --asset EUR --code 2000 --name Alice --no-overdraft",
    ):
        assert twinrail(command).exit_code == 0, command


@pytest.mark.usefixtures("books")
def test_money_moves_and_queries_answer_in_json():
    posted = twinrail(
        "ledger post --debit bank --credit alice --amount 12.34 --asset EUR --id t1 --json"
    )
    assert posted.exit_code == 0 and json.loads(posted.stdout)["status"] == "posted"
    balance = json.loads(twinrail("ledger balance alice --json").stdout)
    assert balance == {
        "account_id": "alice", "asset": "EUR", "posted": "12.34", "pending": "0.00",
        "available": "12.34",
    }  # fmt: skip
    lines = json.loads(twinrail("ledger statement alice --json").stdout)["lines"]
    assert [(x["transfer_id"], x["balance_after"]) for x in lines] == [("t1", "12.34")]
    journal = twinrail("ledger export --format ledger")
    assert journal.exit_code == 0 and "12.34 EUR" in journal.stdout
    check = json.loads(twinrail("ledger rebuild --check --json").stdout)
    assert check["ok"] and check["events"] == 4


@pytest.mark.usefixtures("books")
def test_bad_input_is_one_readable_line_and_a_failing_exit_code():
    too_precise = twinrail("ledger post --debit bank --credit alice --amount 1.234 --asset EUR")
    assert too_precise.exit_code == 1
    assert "ledger.invalid_amount" in too_precise.stderr
    overdraft = twinrail("ledger post --debit alice --credit bank --amount 1.00 --asset EUR")
    assert overdraft.exit_code == 1 and "ledger.limit_exceeded" in overdraft.stderr
    unknown = twinrail("ledger balance nobody --json")
    assert unknown.exit_code == 1 and "ledger.unknown_account" in unknown.stderr
    assert "Traceback" not in too_precise.stderr + overdraft.stderr + unknown.stderr
