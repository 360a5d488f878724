"""The watcher facing a bad node: down, or with a log index lagging behind its blocks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.crypto.watcher_support import (
    account_for,
    chain_of,
    deploy_token,
    mint,
    open_customer_accounts,
    register_deposit_address,
)
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.blooms import bloom_may_contain
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.domain.deposits import DepositStatus
from twinrail.crypto.domain.erc20 import TRANSFER_TOPIC
from twinrail.crypto.domain.errors import NodeUnavailable
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.sandbox.anvil import AnvilNode


class LaggingLogIndex(Web3ChainClient):
    """A real node behind an endpoint whose range log queries miss the newest blocks' logs."""

    def request(self, method: str, params: list[Any]) -> Any:
        if method == "eth_getLogs" and "fromBlock" in params[0]:
            return []
        return super().request(method, params)


def test_a_blocks_bloom_tells_whether_it_may_hold_a_transfer_log(anvil: AnvilNode) -> None:
    client = Web3ChainClient(anvil.url, timeout_s=5)
    token = deploy_token(client)
    mint(client, token, "0x" + "11" * 20, 5)
    block = client.request("eth_getBlockByNumber", ["latest", False])
    bloom = bytes.fromhex(block["logsBloom"][2:])
    assert bloom_may_contain(bloom, TRANSFER_TOPIC)
    assert not bloom_may_contain(bytes(256), TRANSFER_TOPIC)
    with pytest.raises(ValueError):
        bloom_may_contain(b"", TRANSFER_TOPIC)


def test_a_lagging_log_index_is_caught_by_the_bloom_and_asked_again_by_block_hash(
    sqlite_engine: Engine, anvil: AnvilNode
) -> None:
    ledger = LedgerService(sqlite_engine)
    open_customer_accounts(ledger, ["ivy"], {"USDC": 6})
    ivy = register_deposit_address(sqlite_engine, "ivy")
    client = LaggingLogIndex(anvil.url, timeout_s=5)
    token = Token("USDC", deploy_token(client), 6)
    mint(client, token.address, ivy, 7 * 10**6)
    chain = chain_of(anvil.url, 31337, tokens=(token,), confirmations=1)
    watcher = DepositWatcher(
        sqlite_engine, ledger, chain, client, account_for=account_for, start_block=0
    )
    watcher.run_once()
    assert [d.status for d in watcher.deposits()] == [DepositStatus.CREDITED]
    assert ledger.balance("ivy-USDC").posted == 7 * 10**6


def test_a_node_that_is_down_fails_the_pass_with_a_retryable_error_and_records_nothing(
    sqlite_engine: Engine,
) -> None:
    client = Web3ChainClient("http://127.0.0.1:9", timeout_s=1)
    chain = chain_of(client.rpc_url, 31337, confirmations=1)
    watcher = DepositWatcher(sqlite_engine, LedgerService(sqlite_engine), chain, client)
    with pytest.raises(NodeUnavailable) as caught:
        watcher.run_once()
    assert caught.value.retryable
    assert watcher.deposits() == []
