"""Reorgs seen by the watcher on real anvil: snapshot/revert and anvil_reorg, compared by hash."""

from __future__ import annotations

import pytest
from eth_account import Account
from sqlalchemy import Engine, select

from tests.crypto.watcher_support import (
    account_for,
    chain_of,
    mine,
    mint,
    open_customer_accounts,
    register_deposit_address,
)
from twinrail.audit.store.tables import audit_entries
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.domain.deposits import DepositStatus
from twinrail.crypto.domain.errors import ReorgTooDeep
from twinrail.crypto.service.deposit_books import DepositBooks
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.outbox import outbox

USDC = 10**6


@pytest.fixture
def alice(engine: Engine, ledger: LedgerService) -> str:
    open_customer_accounts(ledger, ["alice"], {"USDC": 6, "ETH": 18})
    return register_deposit_address(engine, "alice")


def _watcher(
    engine: Engine,
    ledger: LedgerService,
    client: Web3ChainClient,
    token: Token,
    confirmations: int,
    keep_blocks: int = 256,
) -> DepositWatcher:
    chain = chain_of(client.rpc_url, 31337, tokens=(token,), confirmations=confirmations)
    return DepositWatcher(
        engine,
        ledger,
        chain,
        client,
        account_for=account_for,
        start_block=0,
        keep_blocks=keep_blocks,
    )


def _snapshot(client: Web3ChainClient) -> str:
    snap: str = client.request("evm_snapshot", [])
    return snap


def _revert(client: Web3ChainClient, snapshot: str) -> None:
    assert client.request("evm_revert", [snapshot]) is True


def _topics(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.topic)).scalars())


def test_a_reorg_within_the_confirmations_drops_the_deposit_and_credits_nothing(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, alice: str
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=3)
    before = _snapshot(client)
    mint(client, token.address, alice, 25 * USDC)
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.CONFIRMING

    _revert(client, before)
    mine(client, 3)  # a longer fork without the payment
    watcher.run_once()
    [deposit] = watcher.deposits()
    assert deposit.status is DepositStatus.DROPPED
    assert watcher.stats.reorgs == 1
    mine(client, 5)
    watcher.run_once()
    assert ledger.balance("alice-USDC").posted == 0
    assert "crypto.deposit_reversed" not in _topics(engine)


def test_a_reorg_deeper_than_the_confirmations_reverses_the_credit_and_raises_an_alert(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, alice: str
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=2)
    before = _snapshot(client)
    mint(client, token.address, alice, 25 * USDC)
    mine(client, 1)
    watcher.run_once()
    assert ledger.balance("alice-USDC").posted == 25 * USDC

    _revert(client, before)
    mine(client, 4)
    watcher.run_once()
    [deposit] = watcher.deposits()
    assert deposit.status is DepositStatus.REVERSED
    assert ledger.balance("alice-USDC").posted == 0
    assert "crypto.deposit_reversed" in _topics(engine)
    with engine.connect() as conn:
        outcomes = conn.execute(
            select(audit_entries.c.outcome).where(audit_entries.c.action == "crypto.chain_reorg")
        ).scalars()
        assert list(outcomes) == ["alert"]


def test_anvil_reorg_at_the_same_height_is_found_by_comparing_block_hashes(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, alice: str
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=1)
    mine(client, 3)  # the token's own deployment stays below the reorg
    mint(client, token.address, alice, 8 * USDC)
    watcher.run_once()
    assert ledger.balance("alice-USDC").posted == 8 * USDC
    height = client.block_number()

    client.request("anvil_reorg", [2, []])  # same height, new blocks without the payment
    assert client.block_number() == height
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.REVERSED
    assert ledger.balance("alice-USDC").posted == 0

    mint(client, token.address, alice, 3 * USDC)  # and the watcher carries on on the new fork
    watcher.run_once()
    assert ledger.balance("alice-USDC").posted == 3 * USDC


def _signed_payment(client: Web3ChainClient, receiver: str, wei: int) -> bytes:
    payer = Account.create()
    client.request("anvil_setBalance", [payer.address, hex(10**18)])
    signed = payer.sign_transaction(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": 0,
            "to": receiver,
            "value": wei,
            "gas": 21_000,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    return bytes(signed.raw_transaction)


def test_a_reversed_deposit_mined_again_on_the_new_fork_is_credited_again_once(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, alice: str
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=1)
    raw = _signed_payment(client, alice, 5 * 10**17)
    before = _snapshot(client)
    client.wait_for_receipt(client.send_raw_transaction(raw), 10)
    watcher.run_once()
    assert ledger.balance("alice-ETH").posted == 5 * 10**17

    _revert(client, before)
    mine(client, 2)
    # the same transaction, in a different block
    client.wait_for_receipt(client.send_raw_transaction(raw), 10)
    watcher.run_once()
    [deposit] = watcher.deposits()
    assert (deposit.status, deposit.incarnation) == (DepositStatus.CREDITED, 1)
    assert ledger.balance("alice-ETH").posted == 5 * 10**17
    assert len(ledger.transfers_for_account("alice-ETH").transfers) == 3  # credit, undo, credit


def test_a_crash_after_the_ledger_reversal_replays_it_instead_of_reversing_twice(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, alice: str
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=1)
    before = _snapshot(client)
    mint(client, token.address, alice, 4 * USDC)
    watcher.run_once()
    [credited] = watcher.deposits()
    _revert(client, before)
    mine(client, 3)
    DepositBooks(ledger, watcher.chain, account_for=account_for).reverse(credited)  # then died

    restarted = _watcher(engine, ledger, client, token, confirmations=1)
    restarted.run_once()
    assert restarted.deposits()[0].status is DepositStatus.REVERSED
    assert ledger.balance("alice-USDC").posted == 0
    assert len(ledger.transfers_for_account("alice-USDC").transfers) == 2


def test_an_orphaned_deposit_credited_before_a_crash_is_reversed_not_just_dropped(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, alice: str
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=3)
    before = _snapshot(client)
    mint(client, token.address, alice, 6 * USDC)
    watcher.run_once()
    [open_deposit] = watcher.deposits()
    DepositBooks(ledger, watcher.chain, account_for=account_for).credit([open_deposit])
    _revert(client, before)
    mine(client, 4)
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.REVERSED
    assert ledger.balance("alice-USDC").posted == 0


def test_a_reorg_below_the_kept_block_hashes_stops_the_watcher_with_a_clear_error(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=1, keep_blocks=3)
    before = _snapshot(client)
    mine(client, 8)
    watcher.run_once()
    _revert(client, before)
    mine(client, 12)
    with pytest.raises(ReorgTooDeep) as caught:
        watcher.run_once()
    assert caught.value.code == "crypto.reorg_too_deep"


def test_a_chain_that_became_shorter_than_what_was_read_is_rewound_too(
    engine: Engine, ledger: LedgerService, client: Web3ChainClient, token: Token, alice: str
) -> None:
    watcher = _watcher(engine, ledger, client, token, confirmations=5)
    before = _snapshot(client)
    mint(client, token.address, alice, 2 * USDC)
    mine(client, 2)
    watcher.run_once()
    _revert(client, before)  # and nothing mined since: the node is behind our checkpoint
    watcher.run_once()
    assert watcher.deposits()[0].status is DepositStatus.DROPPED
    mint(client, token.address, alice, 1 * USDC)
    mine(client, 5)
    watcher.run_once()
    assert ledger.balance("alice-USDC").posted == 1 * USDC
