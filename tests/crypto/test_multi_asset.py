"""The multi-asset chart: one deposit address, an account per asset; no account, no credit."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.crypto.watcher_support import (
    chain_of,
    mine,
    mint,
    new_depositor,
    register_deposit_address,
    send_eth,
)
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.domain.deposits import DepositStatus
from twinrail.crypto.service.deposit_books import LedgerChart, customer_account_is_owner
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.crypto.settings import ChainConfig, CryptoSettings, TokenConfig
from twinrail.crypto.watchers import build_deposit_watchers
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount
from twinrail.ledger.domain.model import Side
from twinrail.ledger.service.ledger_service import LedgerService

USDC = 10**6
ETH = 10**18


def _settle(watcher: DepositWatcher, client: Web3ChainClient) -> None:
    watcher.run_once()
    mine(client, 3)
    watcher.run_once()


def test_eth_and_usdc_to_one_address_land_in_the_account_of_their_asset(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    carol = new_depositor(engine, ledger, "carol", {"USDC": 6, "ETH": 18})
    chain = chain_of(client.rpc_url, 31337, tokens=(token,), confirmations=2)
    watcher = DepositWatcher(
        engine, ledger, chain, client, account_for=LedgerChart(ledger), start_block=0
    )
    mint(client, token.address, carol, 7 * USDC)
    send_eth(client, carol, 2 * ETH)
    _settle(watcher, client)
    assert ledger.balance("carol-USDC").posted == 7 * USDC
    assert ledger.balance("carol-ETH").posted == 2 * ETH
    assert {d.asset: d.status for d in watcher.deposits()} == {
        "USDC": DepositStatus.CREDITED, "ETH": DepositStatus.CREDITED,
    }  # fmt: skip
    assert watcher.stats.credit_rejections == 0


def test_an_asset_the_owner_has_no_account_for_is_ignored_and_counted(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    ledger.define_asset(DefineAsset("ETH", 18))
    ledger.open_account(OpenAccount("dan", "ETH", "customer", "dan", Side.CREDIT))
    dan = register_deposit_address(engine, "dan")  # a single-asset owner: the account is the ref
    chain = chain_of(client.rpc_url, 31337, tokens=(token,), confirmations=2)
    watcher = DepositWatcher(
        engine, ledger, chain, client, account_for=LedgerChart(ledger), start_block=0
    )
    mint(client, token.address, dan, 5 * USDC)
    send_eth(client, dan, ETH)
    _settle(watcher, client)
    assert ledger.balance("dan").posted == ETH
    assert watcher.ignored.no_account == 1
    assert [d.asset for d in watcher.deposits()] == ["ETH"]
    assert watcher.stats.credit_rejections == 0


def test_the_old_default_mapping_leaves_an_other_asset_deposit_rejected_on_every_pass(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    # why the worker now uses LedgerChart: owner_ref-as-account would credit USDC into an ETH
    # account, which the ledger refuses, so the deposit waits forever and is retried each pass
    ledger.define_asset(DefineAsset("ETH", 18))
    ledger.open_account(OpenAccount("erin", "ETH", "customer", "erin", Side.CREDIT))
    erin = register_deposit_address(engine, "erin")
    chain = chain_of(client.rpc_url, 31337, tokens=(token,), confirmations=2)
    watcher = DepositWatcher(
        engine, ledger, chain, client, account_for=customer_account_is_owner, start_block=0
    )
    mint(client, token.address, erin, 5 * USDC)
    _settle(watcher, client)
    assert [d.status for d in watcher.deposits()] == [DepositStatus.CONFIRMING]
    assert watcher.stats.credit_rejections >= 1
    assert ledger.balance("erin").posted == 0


def test_the_worker_watchers_use_the_multi_asset_chart_by_default(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    fred = new_depositor(engine, ledger, "fred", {"USDC": 6, "ETH": 18})
    settings = CryptoSettings(
        chains=[
            ChainConfig(
                chain_id=31337, name="anvil", rpc_url=client.rpc_url, confirmations=2,
                tokens=[TokenConfig(symbol="USDC", address=token.address, decimals=6)],
            )
        ]
    )  # fmt: skip
    [watcher] = build_deposit_watchers(engine, ledger, settings)
    watcher._start_block = 0  # noqa: SLF001 - read from genesis in this test
    mint(client, token.address, fred, 3 * USDC)
    send_eth(client, fred, ETH)
    _settle(watcher, client)
    assert ledger.balance("fred-USDC").posted == 3 * USDC
    assert ledger.balance("fred-ETH").posted == ETH
