"""`twinrail chain withdraw` and `twinrail chain withdrawals` against a real anvil."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.crypto.conftest import FAST_SCRYPT_N
from tests.crypto.watcher_support import deploy_token
from tests.crypto.withdrawal_support import ETH, PAYEE, open_customer
from twinrail.cli.chain_cli import app as chain_app
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.settings import CryptoSettings
from twinrail.crypto.wiring import open_key_store
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.sandbox.anvil import AnvilNode
from twinrail.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anvil: AnvilNode
) -> Iterator[LedgerService]:
    client = Web3ChainClient(anvil.url)
    token = deploy_token(client)
    chains = [
        {
            "chain_id": anvil.chain_id,
            "name": "anvil",
            "rpc_url": anvil.url,
            "confirmations": 1,
            "tokens": [{"symbol": "USDC", "address": token, "decimals": 6}],
        }
    ]
    database = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", database)
    monkeypatch.setenv("TWINRAIL_CRYPTO_CHAINS", json.dumps(chains))
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_STORE", "software")
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TWINRAIL_CRYPTO_SCRYPT_N", str(FAST_SCRYPT_N))
    get_settings.cache_clear()
    engine = create_db_engine(database)
    upgrade(engine)
    keys = open_key_store(CryptoSettings())
    hot = AddressService(engine, keys).hot_wallet(anvil.chain_id).address
    keys.close()
    client.request("anvil_setBalance", [hot, hex(10 * ETH)])
    ledger = LedgerService(engine)
    open_customer(ledger, "ann", {"ETH": 2 * ETH})
    yield ledger
    engine.dispose()
    get_settings.cache_clear()


def test_withdraw_pays_out_and_lists_the_withdrawal(cli_env: LedgerService) -> None:
    result = runner.invoke(
        chain_app,
        ["withdraw", "--account", "ann-ETH", "--to", PAYEE, "--amount", "0.5", "--id", "w-cli"]
        + ["--wait", "30", "--json"],
    )
    assert result.exit_code == 0, result.output
    paid = json.loads(result.output)
    assert (paid["id"], paid["status"], paid["amount"]) == ("w-cli", "final", str(ETH // 2))
    assert cli_env.balance("ann-ETH").posted == 2 * ETH - ETH // 2

    listed = runner.invoke(chain_app, ["withdrawals", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [w["id"] for w in json.loads(listed.output)] == ["w-cli"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "0.1234567890123456789"], "more decimals than the asset"),
        (["--amount", "1", "--asset", "DAI"], "token not listed"),
        (["--amount", "5"], "ledger.limit_exceeded"),
    ],
)
def test_withdraw_refuses_bad_input_with_a_clear_error(
    cli_env: LedgerService, args: list[str], message: str
) -> None:
    result = runner.invoke(chain_app, ["withdraw", "--account", "ann-ETH", "--to", PAYEE, *args])
    assert result.exit_code == 1
    assert message in result.output
    assert cli_env.balance("ann-ETH").available == 2 * ETH


@pytest.mark.usefixtures("cli_env")
def test_withdraw_refuses_an_address_without_checksum() -> None:
    result = runner.invoke(
        chain_app,
        ["withdraw", "--account", "ann-ETH", "--to", PAYEE.lower(), "--amount", "1"],
    )
    assert result.exit_code == 1
    assert "EIP-55" in result.output
