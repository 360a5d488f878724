"""The JSON-RPC client facing a bad node: retries reads with backoff, never sends twice.

Faults are injected by a proxy in front of a real anvil (errors, HTTP 503, hangs, answers lost
after the node acted, blocks out of order) and by a port that accepts and never answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.crypto.rpc_faults import FaultyProxy, SilentPort
from tests.crypto.watcher_support import (
    DEV,
    account_for,
    chain_of,
    deploy_token,
    mine,
    mint,
    new_depositor,
)
from twinrail.crypto.adapters.evm_rpc import RetryPolicy, Web3ChainClient
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.domain.deposits import DepositStatus
from twinrail.crypto.domain.errors import NodeError, NodeUnavailable
from twinrail.crypto.domain.transactions import Eip1559Transaction
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.sandbox.anvil import AnvilNode

USDC = 10**6
INTERNAL = {"code": -32603, "message": "internal error"}


class Sleeps(list[float]):
    """Records the backoff instead of sleeping: tests assert the schedule, not the clock."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def proxy(anvil: AnvilNode) -> Iterator[FaultyProxy]:
    with FaultyProxy(anvil.url) as p:
        yield p


def _client(
    url: str, sleeps: Sleeps, *, attempts: int = 4, timeout_s: float = 5
) -> Web3ChainClient:
    policy = RetryPolicy(attempts=attempts, base_delay_s=0.1, max_delay_s=0.3)
    return Web3ChainClient(url, timeout_s=timeout_s, retry=policy, sleep=sleeps)


def test_backoff_grows_exponentially_up_to_its_cap_with_full_jitter() -> None:
    policy = RetryPolicy(attempts=6, base_delay_s=0.1, max_delay_s=1.0)
    assert [policy.delay(n, lambda: 1.0) for n in range(6)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    )
    assert policy.delay(3, lambda: 0.0) == 0.0
    assert all(0 <= policy.delay(n) < 1.0 for n in range(20))


def test_a_node_that_refuses_connections_is_retried_then_reported_unavailable() -> None:
    sleeps = Sleeps()
    client = _client("http://127.0.0.1:9", sleeps, attempts=3)
    with pytest.raises(NodeUnavailable) as caught:
        client.block_number()
    assert caught.value.retryable
    assert caught.value.context["method"] == "eth_blockNumber"
    assert client.retries == 2 and len(sleeps) == 2


def test_a_node_that_accepts_and_never_answers_times_out_on_every_attempt() -> None:
    sleeps = Sleeps()
    with SilentPort() as silent:
        client = _client(silent.url, sleeps, attempts=2, timeout_s=0.3)
        with pytest.raises(NodeUnavailable):
            client.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "0x0"}])
    assert silent.accepted == 2
    assert len(sleeps) == 1


def test_transient_json_rpc_errors_and_http_503_on_reads_are_retried_until_answered(
    proxy: FaultyProxy,
) -> None:
    sleeps = Sleeps()
    client = _client(proxy.url, sleeps)
    proxy.on("eth_blockNumber", ("error", INTERNAL), ("http", 503))
    assert client.block_number() == 0
    assert proxy.calls["eth_blockNumber"] == 3
    assert client.retries == 2
    assert sleeps[1] > 0 or sleeps[0] >= 0  # jittered, each below its cap
    assert all(s < 0.3 for s in sleeps)


def test_a_read_that_keeps_failing_gives_up_with_the_nodes_error(proxy: FaultyProxy) -> None:
    client = _client(proxy.url, Sleeps(), attempts=3)
    proxy.on("eth_feeHistory", *[("error", {"code": -32005, "message": "limit exceeded"})] * 3)
    with pytest.raises(NodeError) as caught:
        client.fee_history(4, 50.0)
    assert caught.value.context["rpc_code"] == -32005
    assert proxy.calls["eth_feeHistory"] == 3


def test_an_error_that_is_an_answer_is_not_retried(proxy: FaultyProxy) -> None:
    client = _client(proxy.url, Sleeps())
    proxy.on("eth_call", ("error", {"code": 3, "message": "execution reverted"}))
    with pytest.raises(NodeError) as caught:
        client.call("0x" + "11" * 20, b"\x00")
    assert "reverted" in caught.value.context["reason"]
    assert proxy.calls["eth_call"] == 1
    proxy.on("eth_getBlockByNumber", ("http", 400))
    with pytest.raises(NodeError):
        client.request("eth_getBlockByNumber", ["latest", False])
    assert proxy.calls["eth_getBlockByNumber"] == 1


def test_control_methods_are_never_retried(proxy: FaultyProxy) -> None:
    client = _client(proxy.url, Sleeps())
    proxy.on("eth_sendTransaction", ("error", INTERNAL))
    with pytest.raises(NodeError):
        client.request("eth_sendTransaction", [{"from": DEV, "to": DEV, "value": "0x1"}])
    assert proxy.calls["eth_sendTransaction"] == 1
    assert client.mined_nonce(DEV) == 0  # and nothing was sent


def _signed_transfer(client: Web3ChainClient, key_store: KeyStore) -> tuple[str, bytes, str]:
    sender = key_store.create_key()
    client.request("anvil_setBalance", [sender, hex(10**18)])
    tx = Eip1559Transaction(
        chain_id=31337, sender=sender, nonce=0, to=DEV, value=1, data=b"", gas=21_000,
        max_fee_per_gas=10**10, max_priority_fee_per_gas=10**9,
    )  # fmt: skip
    signed = TransactionSigner(key_store).sign_transaction(tx)
    return sender, signed.raw, signed.tx_hash


def test_a_broadcast_whose_answer_was_lost_is_retried_with_the_same_bytes_and_lands_once(
    proxy: FaultyProxy, software_store: KeyStore
) -> None:
    client = _client(proxy.url, Sleeps(), timeout_s=0.5)
    sender, raw, tx_hash = _signed_transfer(client, software_store)
    proxy.on("eth_sendRawTransaction", ("forward_then_hang",))
    assert client.send_raw_transaction(raw) == tx_hash
    assert proxy.calls["eth_sendRawTransaction"] == 2  # the same bytes, twice
    assert client.wait_for_receipt(tx_hash, 10).status == 1
    assert client.mined_nonce(sender) == 1  # one transaction, not two


def test_a_broadcast_the_node_already_knows_counts_as_success(
    anvil: AnvilNode, software_store: KeyStore
) -> None:
    client = _client(anvil.url, Sleeps())
    client.request("evm_setAutomine", [False])
    _, raw, tx_hash = _signed_transfer(client, software_store)
    assert client.send_raw_transaction(raw) == tx_hash
    assert client.send_raw_transaction(raw) == tx_hash  # "already known": fine
    mine(client)
    assert client.receipt(tx_hash) is not None


def test_a_rejected_broadcast_of_unknown_bytes_is_an_error(
    proxy: FaultyProxy, software_store: KeyStore
) -> None:
    client = _client(proxy.url, Sleeps())
    _, raw, _ = _signed_transfer(client, software_store)
    proxy.on("eth_sendRawTransaction", ("error", {"code": -32000, "message": "nonce too low"}))
    with pytest.raises(NodeError):
        client.send_raw_transaction(raw)
    assert proxy.calls["eth_sendRawTransaction"] == 1


def _block_out_of_order(target: int) -> Any:
    def mutate(method: str, params: list[Any], answer: dict[str, Any]) -> dict[str, Any]:
        if method == "eth_getBlockByNumber" and params[0] == hex(target) and answer["result"]:
            answer["result"]["number"] = hex(target - 1)
        return answer

    return mutate


def test_a_block_out_of_order_fails_the_pass_and_a_later_pass_credits_exactly_once(
    sqlite_engine: Engine, proxy: FaultyProxy
) -> None:
    ledger = LedgerService(sqlite_engine)
    olga = new_depositor(sqlite_engine, ledger, "olga", {"USDC": 6})
    client = _client(proxy.url, Sleeps())
    token = Token("USDC", deploy_token(client), 6)
    mint(client, token.address, olga, 3 * USDC)
    head = client.block_number()
    chain = chain_of(proxy.url, 31337, tokens=(token,), confirmations=1)
    watcher = DepositWatcher(
        sqlite_engine, ledger, chain, client, account_for=account_for, start_block=0
    )
    proxy.mutate = _block_out_of_order(head)
    with pytest.raises(NodeError) as caught:
        watcher.run_once()
    assert caught.value.context == {"asked": head, "answered": head - 1}
    assert watcher.deposits() == []
    proxy.mutate = None
    proxy.on("eth_getLogs", ("error", INTERNAL))  # and a transient fault on the way
    watcher.run_once()
    watcher.run_once()
    assert [d.status for d in watcher.deposits()] == [DepositStatus.CREDITED]
    assert ledger.balance("olga-USDC").posted == 3 * USDC
