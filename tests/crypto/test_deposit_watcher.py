"""The chain watcher against real anvil nodes: deposits seen, confirmed and credited once."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, select

from tests.crypto.watcher_support import (
    account_for,
    chain_of,
    deploy_token,
    mine,
    mint,
    new_address,
    new_depositor,
    open_customer_accounts,
    register_deposit_address,
    send_eth,
)
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import FinalitySource, Token
from twinrail.crypto.domain.deposits import NATIVE_LOG_INDEX, DepositStatus
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.service.deposit_books import DepositBooks
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.settings import ChainConfig, CryptoSettings, TokenConfig
from twinrail.crypto.watchers import build_deposit_watchers, watcher_lease_name
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.lease import lease_for
from twinrail.platform.outbox import outbox
from twinrail.sandbox.anvil import AnvilNode

USDC = 10**6


def _watcher(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, **kw: object
) -> DepositWatcher:
    chain = chain_of(
        client.rpc_url,
        client.chain_id(),
        tokens=(token,),
        confirmations=kw.pop("confirmations", 3),  # type: ignore[arg-type]
        finality=kw.pop("finality", FinalitySource.DEPTH),  # type: ignore[arg-type]
    )
    return DepositWatcher(engine, ledger, chain, client, account_for=account_for, start_block=0)


def _topics(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.topic).order_by(outbox.c.id)).scalars())


def test_a_token_deposit_is_seen_then_confirming_then_credited_to_its_account(
    engine: Engine,
    ledger: LedgerService,
    client: Web3ChainClient,
    token: Token,
    software_store: KeyStore,
) -> None:
    open_customer_accounts(ledger, ["alice"], {"USDC": 6, "ETH": 18})
    alice = AddressService(engine, software_store).deposit_address("alice").address
    watcher = _watcher(engine, ledger, client, token)
    tx = mint(client, token.address, alice, 25 * USDC)

    watcher.run_once()
    [deposit] = watcher.deposits()
    assert (deposit.tx_hash, deposit.address, deposit.amount) == (tx, alice, 25 * USDC)
    assert deposit.status is DepositStatus.CONFIRMING  # 1 of 3 confirmations
    mine(client, 1)
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.CONFIRMING
    assert ledger.balance("alice-USDC").posted == 0

    mine(client, 1)  # the third confirmation
    watcher.run_once()
    [deposit] = watcher.deposits()
    assert deposit.status is DepositStatus.CREDITED
    assert ledger.balance("alice-USDC").posted == 25 * USDC
    assert ledger.balance(f"crypto-clearing-{client.chain_id()}-USDC").posted == 25 * USDC
    assert "crypto.deposit_credited" in _topics(engine)

    mine(client, 5)
    watcher.run_once()
    assert ledger.balance("alice-USDC").posted == 25 * USDC  # never twice


def test_a_native_transfer_is_a_deposit_at_log_index_minus_one(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    bob = new_depositor(engine, ledger, "bob", {"ETH": 18})
    watcher = _watcher(engine, ledger, client, token, confirmations=1)
    send_eth(client, bob, 3 * 10**18)
    watcher.run_once()
    [deposit] = watcher.deposits()
    assert (deposit.log_index, deposit.asset, deposit.token) == (NATIVE_LOG_INDEX, "ETH", None)
    assert deposit.status is DepositStatus.CREDITED
    assert ledger.balance("bob-ETH").posted == 3 * 10**18  # more than 64 bits of wei


def test_payments_to_strangers_or_in_unlisted_tokens_are_ignored_and_counted(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    carol = new_depositor(engine, ledger, "carol", {"USDC": 6})
    other_token = deploy_token(client, symbol="FAKE")
    watcher = _watcher(engine, ledger, client, token, confirmations=1)
    mint(client, token.address, new_address(), 5 * USDC)
    send_eth(client, new_address(), 10**15)
    mint(client, other_token, carol, 7 * USDC)
    watcher.run_once()
    assert watcher.deposits() == []
    assert watcher.ignored.unknown_address == 2
    assert watcher.ignored.unlisted_token == 1
    assert ledger.balance("carol-USDC").posted == 0


def test_a_crash_between_credit_and_mark_is_finished_by_an_idempotent_replay(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    dave = new_depositor(engine, ledger, "dave", {"USDC": 6})
    watcher = _watcher(engine, ledger, client, token, confirmations=2)
    mint(client, token.address, dave, 9 * USDC)
    watcher.run_once()
    [deposit] = watcher.deposits()
    # the crashed process had posted the credit but died before marking the deposit
    books = DepositBooks(ledger, watcher.chain, account_for=account_for)
    [posted], _ = books.credit([deposit])
    assert ledger.balance("dave-USDC").posted == 9 * USDC

    mine(client, 1)
    restarted = _watcher(engine, ledger, client, token, confirmations=2)
    restarted.run_once()
    assert restarted.deposits()[0].status is DepositStatus.CREDITED
    assert ledger.balance("dave-USDC").posted == 9 * USDC
    assert len(ledger.transfers_for_account("dave-USDC").transfers) == 1


def test_a_deposit_credit_the_ledger_rejects_stays_open_and_is_retried(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    open_customer_accounts(ledger, ["erin"], {"ETH": 18})  # no USDC account yet
    erin = register_deposit_address(engine, "erin")
    watcher = _watcher(engine, ledger, client, token, confirmations=1)
    mint(client, token.address, erin, 1 * USDC)
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.CONFIRMING
    assert watcher.stats.credit_rejections == 1
    open_customer_accounts(ledger, ["erin"], {"USDC": 6})
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.CREDITED
    assert ledger.balance("erin-USDC").posted == 1 * USDC


def test_finality_follows_the_nodes_finalized_tag_where_configured(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    fred = new_depositor(engine, ledger, "fred", {"USDC": 6})
    watcher = _watcher(
        engine, ledger, client, token, confirmations=1, finality=FinalitySource.FINALIZED
    )
    mint(client, token.address, fred, 2 * USDC)
    mine(client, 5)  # deep enough by depth, but anvil finalizes only 64 blocks back
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.CONFIRMING
    mine(client, 64)
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.CREDITED


def test_two_chains_are_watched_at_once_each_with_its_own_checkpoint(
    sqlite_engine: Engine, two_anvils: tuple[AnvilNode, AnvilNode]
) -> None:
    engine = sqlite_engine
    ledger = LedgerService(engine)
    gina = new_depositor(engine, ledger, "gina", {"USDC": 6, "ETH": 18})
    watchers = []
    for node, amount in zip(two_anvils, (4, 6), strict=True):
        client = Web3ChainClient(node.url, timeout_s=5)
        token = Token("USDC", deploy_token(client), 6)
        mint(client, token.address, gina, amount * USDC)
        send_eth(client, gina, amount)
        watchers.append(_watcher(engine, ledger, client, token, confirmations=1))
    for watcher in watchers:
        watcher.run_once()
    assert [len(w.deposits()) for w in watchers] == [2, 2]
    assert {d.chain_id for w in watchers for d in w.deposits()} == {31337, 31338}
    assert ledger.balance("gina-USDC").posted == 10 * USDC
    assert ledger.balance("gina-ETH").posted == 10
    assert ledger.balance("crypto-clearing-31338-USDC").posted == 6 * USDC


def test_the_watcher_loop_credits_under_its_lease_until_stopped(
    sqlite_engine: Engine, client: Web3ChainClient, token: Token
) -> None:
    engine, ledger = sqlite_engine, LedgerService(sqlite_engine)
    hana = new_depositor(engine, ledger, "hana", {"USDC": 6})
    settings = CryptoSettings(
        chains=[
            ChainConfig(
                chain_id=31337,
                name="anvil",
                rpc_url=client.rpc_url,
                confirmations=1,
                tokens=[TokenConfig(symbol="USDC", address=token.address, decimals=6)],
            )
        ]
    )
    [watcher] = build_deposit_watchers(engine, ledger, settings, account_for=account_for)
    lease = lease_for(engine, watcher_lease_name(31337))
    stop = threading.Event()
    loop = threading.Thread(target=watcher.run_forever, args=(stop, 0.05), kwargs={"lease": lease})
    loop.start()
    try:
        mint(client, token.address, hana, 12 * USDC)
        deadline = time.monotonic() + 10
        while ledger.balance("hana-USDC").posted == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive() and not lease.held
    assert ledger.balance("hana-USDC").posted == 12 * USDC
