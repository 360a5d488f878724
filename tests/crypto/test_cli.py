"""`twinrail chain` and `twinrail custody`, run through typer against real anvil and SoftHSM2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.crypto.conftest import FAST_SCRYPT_N, HSM_PIN, HSM_TOKEN
from twinrail.cli.chain_cli import app as chain_app
from twinrail.cli.custody_cli import app as custody_app
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.adapters.softhsm import SoftHsm
from twinrail.sandbox.anvil import AnvilNode

runner = CliRunner()


@pytest.fixture
def software_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_STORE", "software")
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TWINRAIL_CRYPTO_SCRYPT_N", str(FAST_SCRYPT_N))
    return tmp_path / "keys"


def test_chain_up_starts_anvil_and_stops_it(
    anvil_binary: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINRAIL_ANVIL_BIN", str(anvil_binary))
    result = runner.invoke(
        chain_app, ["up", "--port", "0", "--chain-id", "777", "--exit-after", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "anvil chain 777 listening on http://127.0.0.1:" in result.output
    assert "anvil stopped" in result.output


def test_deploy_token_deploys_the_vyper_token_from_a_key_store_address(
    anvil: AnvilNode, software_env: Path
) -> None:
    result = runner.invoke(chain_app, ["deploy-token", "--rpc-url", anvil.url, "--json"])
    assert result.exit_code == 0, result.output
    deployed = json.loads(result.output)
    assert deployed["decimals"] == 6 and deployed["key_store"] == "software"
    assert (software_env / f"{deployed['owner']}.json").exists()
    code = Web3ChainClient(anvil.url).request("eth_getCode", [deployed["address"], "latest"])
    assert len(code) > 2


def test_deploy_token_against_a_node_that_is_down_is_a_retryable_error(
    software_env: Path,  # noqa: ARG001
) -> None:
    result = runner.invoke(chain_app, ["deploy-token", "--rpc-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "crypto.node_unavailable" in result.output


def test_chain_list_shows_the_configured_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWINRAIL_CRYPTO_CHAINS", raising=False)
    result = runner.invoke(chain_app, ["list", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)[0]["chain_id"] == 31337


def test_custody_init_creates_a_project_local_token_once_and_never_prints_pins(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    softhsm: SoftHsm,  # noqa: ARG001
) -> None:
    monkeypatch.setenv("TWINRAIL_CRYPTO_SOFTHSM_DIR", str(tmp_path / "hsm"))
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_TOKEN_LABEL", "cli-token")
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_PIN", "user-pin-31415")
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_SO_PIN", "so-pin-27182")

    first = runner.invoke(custody_app, ["init", "--json"])
    again = runner.invoke(custody_app, ["init", "--json"])

    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["created"] is True
    assert json.loads(again.output)["created"] is False
    for output in (first.output, again.output):
        assert "31415" not in output and "27182" not in output
    conf = tmp_path / "hsm" / "softhsm2.conf"
    assert str((tmp_path / "hsm" / "tokens").resolve()) in conf.read_text()
    shown = subprocess.run(
        ["softhsm2-util", "--show-slots"],
        env=SoftHsm(tmp_path / "hsm").env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "cli-token" in shown


def test_custody_new_key_and_keys_use_the_hsm_when_configured(
    softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_STORE", "pkcs11")
    monkeypatch.setenv("TWINRAIL_CRYPTO_SOFTHSM_DIR", str(softhsm.directory))
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_TOKEN_LABEL", HSM_TOKEN)
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_PIN", HSM_PIN)

    created = runner.invoke(custody_app, ["new-key", "--json"])
    listed = runner.invoke(custody_app, ["keys", "--json"])

    assert created.exit_code == 0, created.output
    address = json.loads(created.output)["address"]
    assert json.loads(created.output)["key_store"] == "pkcs11"
    assert address in json.loads(listed.output)["addresses"]


def test_custody_with_a_wrong_pin_fails_clearly(
    softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_STORE", "pkcs11")
    monkeypatch.setenv("TWINRAIL_CRYPTO_SOFTHSM_DIR", str(softhsm.directory))
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_TOKEN_LABEL", HSM_TOKEN)
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_PIN", "wrong-pin-1234")
    result = runner.invoke(custody_app, ["keys"])
    assert result.exit_code == 1
    assert "crypto.key_store_unavailable" in result.output
    assert "wrong-pin-1234" not in result.output


def test_deposit_address_is_assigned_once_per_account_from_the_cli(
    tmp_path: Path, software_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", f"sqlite:///{tmp_path}/twinrail.db")
    first = runner.invoke(custody_app, ["deposit-address", "acct-42", "--json"])
    again = runner.invoke(custody_app, ["deposit-address", "acct-42", "--json"])
    hot = runner.invoke(custody_app, ["hot-wallet", "--chain-id", "31337", "--json"])
    assert first.exit_code == 0, first.output
    deposit = json.loads(first.output)
    assert deposit["purpose"] == "deposit" and deposit["owner_ref"] == "acct-42"
    assert json.loads(again.output)["address"] == deposit["address"]
    assert (software_env / f"{deposit['address']}.json").exists()
    assert json.loads(hot.output)["address"] != deposit["address"]
