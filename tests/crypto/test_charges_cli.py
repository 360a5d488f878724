"""`twinrail chain charge`: create, show and list payment requests from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.crypto.conftest import FAST_SCRYPT_N
from twinrail.cli.charge_cli import app as charge_app
from twinrail.cli.main import app as main_app

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_STORE", "software")
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TWINRAIL_CRYPTO_SCRYPT_N", str(FAST_SCRYPT_N))
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", f"sqlite:///{tmp_path}/twinrail.db")
    return tmp_path / "keys"


def test_a_charge_created_from_the_cli_has_its_own_key_and_an_eip681_uri(cli_env: Path) -> None:
    made = runner.invoke(
        charge_app,
        ["create", "--account", "shop-ETH", "--amount", "0.5", "--expires-in", "30", "--json"],
    )
    assert made.exit_code == 0, made.output
    charge = json.loads(made.output)
    assert charge["status"] == "new" and charge["amount"] == str(5 * 10**17)
    assert charge["payment_uri"] == f"ethereum:{charge['address']}@31337?value={5 * 10**17}"
    assert (cli_env / f"{charge['address']}.json").exists()  # a fresh key in the key store
    shown = runner.invoke(main_app, ["chain", "charge", "show", charge["id"], "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["address"] == charge["address"]
    listed = runner.invoke(charge_app, ["list", "--status", "new", "--json"])
    assert [c["id"] for c in json.loads(listed.output)] == [charge["id"]]


def test_bad_charge_input_fails_with_the_error_code(cli_env: Path) -> None:  # noqa: ARG001
    finer = runner.invoke(
        charge_app, ["create", "--account", "a", "--amount", "1.0000000000000000001"]
    )
    assert finer.exit_code == 1 and "crypto.invalid_amount" in finer.output
    token = runner.invoke(
        charge_app, ["create", "--account", "a", "--amount", "1", "--asset", "DAI"]
    )
    assert token.exit_code == 1 and "crypto.unknown_token" in token.output
    chain = runner.invoke(
        charge_app, ["create", "--account", "a", "--amount", "1", "--chain-id", "5"]
    )
    assert chain.exit_code == 1 and "crypto.unknown_chain" in chain.output
    missing = runner.invoke(charge_app, ["show", "ch_nope"])
    assert missing.exit_code == 1 and "crypto.unknown_charge" in missing.output
