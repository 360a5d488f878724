"""Withdrawals end to end on a real anvil: hold → fee check → nonce → sign → broadcast → final,
with the ledger following every step; refusals, reverts and stuck transactions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select

from tests.conftest import ManualClock
from tests.crypto.conftest import FAST_SCRYPT_N, PASSPHRASE
from tests.crypto.withdrawal_support import (
    ETH,
    PAYEE,
    USDC,
    FlakyBroadcasts,
    make_rig,
    open_customer,
    processor_for,
    transitions,
)
from twinrail.audit.store.tables import audit_entries
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.chains import ChainRegistry
from twinrail.crypto.domain.errors import (
    InvalidAddress,
    NodeUnavailable,
    UnknownChain,
    UnknownToken,
)
from twinrail.crypto.domain.fees import FeePolicy
from twinrail.crypto.domain.withdrawals import (
    InvalidWithdrawal,
    WithdrawalConflict,
    WithdrawalRequest,
    WithdrawalStatus,
)
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.withdrawal_books import (
    hot_wallet_account_id,
    network_fees_account_id,
)
from twinrail.crypto.service.withdrawals import WithdrawalService
from twinrail.crypto.settings import ChainConfig, CryptoSettings
from twinrail.crypto.withdrawal_workers import build_withdrawal_loops, withdrawal_lease_name
from twinrail.ledger.domain.errors import LimitExceeded
from twinrail.ledger.domain.model import TransferStatus
from twinrail.platform.lease import lease_for
from twinrail.sandbox.anvil import AnvilNode

GWEI = 10**9
S = WithdrawalStatus


def test_an_eth_withdrawal_goes_final_and_the_ledger_posts_the_hold_and_books_the_fee(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store)
    open_customer(rig.ledger, "ann", {"ETH": 3 * ETH})
    payee_before = rig.client.balance(PAYEE)

    held = rig.request("w-1", "ann-ETH", 2 * ETH)
    assert held.status is S.HELD
    assert rig.ledger.balance("ann-ETH").available == 1 * ETH
    assert rig.ledger.balance("ann-ETH").posted == 3 * ETH

    processor = processor_for(rig)
    processor.run_once()
    mined = rig.service.find("w-1")
    assert mined is not None and mined.status is S.MINED  # 1 of 2 confirmations so far
    rig.mine(1)
    processor.run_once()

    final = rig.service.find("w-1")
    assert final is not None and final.status is S.FINAL and final.nonce == 0
    receipt = rig.client.receipt(final.tx_hash or "")
    assert receipt is not None and receipt.status == 1
    assert final.fee == receipt.gas_used * receipt.effective_gas_price > 0
    assert rig.client.balance(PAYEE) == payee_before + 2 * ETH
    assert rig.ledger.balance("ann-ETH").posted == 1 * ETH
    assert rig.ledger.transfer(final.hold_id).status is TransferStatus.POSTED
    fees = rig.ledger.balance(network_fees_account_id(anvil.chain_id, "ETH"))
    assert fees.posted == final.fee
    hot = rig.ledger.balance(hot_wallet_account_id(anvil.chain_id, "ETH"))
    assert hot.posted == -(2 * ETH + final.fee)  # what left the hot wallet: amount and gas
    assert transitions(engine, "w-1") == ["held", "signed", "broadcast", "mined", "final"]
    with engine.connect() as conn:
        audited = conn.execute(
            select(audit_entries.c.action).where(audit_entries.c.subject == "crypto_withdrawal:w-1")
        ).all()
    assert [a.action for a in audited] == ["crypto.withdrawal_transitioned"] * 5


def test_a_token_withdrawal_moves_tokens_and_books_the_fee_in_eth(
    engine: Engine, anvil: AnvilNode, hsm_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, hsm_store, confirmations=1)
    open_customer(rig.ledger, "ben", {"USDC": 50 * USDC})

    rig.request("w-usdc", "ben-USDC", 12_345_678, asset="usdc")
    processor_for(rig).run_once()

    final = rig.service.find("w-usdc")
    assert final is not None and final.status is S.FINAL
    assert final.asset == "USDC" and final.token == rig.token
    balance = erc20.decode_uint(rig.client.call(rig.token, erc20.encode_balance_of(PAYEE)))
    assert balance == 12_345_678
    assert rig.ledger.balance("ben-USDC").posted == 50 * USDC - 12_345_678
    assert rig.ledger.balance(network_fees_account_id(anvil.chain_id, "ETH")).posted == final.fee


def test_a_withdrawal_above_the_fee_cap_is_refused_and_its_hold_released(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "cat", {"ETH": 1 * ETH})
    rig.request("w-capped", "cat-ETH", ETH // 2)

    processor_for(rig, policy=FeePolicy(max_fee_cap=1_000)).run_once()

    refused = rig.service.find("w-capped")
    assert refused is not None and refused.status is S.REFUSED
    assert "could cost more in fees than the configured cap" in refused.reason
    assert "cap=1000" in refused.reason
    assert rig.ledger.transfer(refused.hold_id).status is TransferStatus.VOIDED
    assert rig.ledger.balance("cat-ETH").available == 1 * ETH
    assert rig.client.mined_nonce(rig.hot) == 0 and rig.client.pending_nonce(rig.hot) == 0
    # nothing was signed: the next withdrawal takes nonce 0 and goes through
    rig.request("w-next", "cat-ETH", ETH // 4)
    processor = processor_for(rig)
    processor.run_once()
    rig.mine(1)
    processor.run_once()
    after = rig.service.find("w-next")
    assert after is not None and after.status is S.FINAL and after.nonce == 0


def test_a_per_gas_price_cap_refuses_too(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "dan", {"ETH": 1 * ETH})
    rig.request("w-1", "dan-ETH", 1)
    processor_for(rig, policy=FeePolicy(max_fee_per_gas_cap=1)).run_once()
    refused = rig.service.find("w-1")
    assert refused is not None and refused.status is S.REFUSED
    assert "price per gas is above the configured cap" in refused.reason


def test_a_token_transfer_that_reverts_on_chain_releases_the_hold_and_books_only_the_fee(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    # the hot wallet holds 100 USDC; two customers withdraw 80 each. The node is down for
    # broadcasts while both are priced and signed against the same state, so once it is back
    # both are sent, and the second one reverts on chain.
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=100 * USDC)
    open_customer(rig.ledger, "eve", {"USDC": 80 * USDC})
    open_customer(rig.ledger, "fay", {"USDC": 80 * USDC})
    rig.request("w-eve", "eve-USDC", 80 * USDC, asset="USDC")
    rig.request("w-fay", "fay-USDC", 80 * USDC, asset="USDC")
    client = FlakyBroadcasts(anvil.url, timeout_s=10)
    processor = processor_for(rig, client=client)
    client.down = True
    processor.run_once()
    assert {w.status for w in rig.service.recent()} == {S.SIGNED}  # retried, never re-signed
    client.down = False
    processor.run_once()
    rig.mine(1)
    processor.run_once()

    eve, fay = rig.service.find("w-eve"), rig.service.find("w-fay")
    assert eve is not None and eve.status is S.FINAL
    assert fay is not None and fay.status is S.REVERTED
    assert "reverted" in fay.reason
    receipt = rig.client.receipt(fay.tx_hash or "")
    assert receipt is not None and receipt.status == 0
    assert rig.ledger.transfer(fay.hold_id).status is TransferStatus.VOIDED
    assert rig.ledger.balance("fay-USDC").posted == 80 * USDC  # her funds are back
    assert rig.ledger.balance("fay-USDC").available == 80 * USDC
    assert rig.ledger.balance("eve-USDC").posted == 0
    fees = rig.ledger.balance(network_fees_account_id(anvil.chain_id, "ETH")).posted
    assert fees == (eve.fee or 0) + (fay.fee or 0) and (fay.fee or 0) > 0


def test_a_transfer_the_node_says_would_revert_fails_before_signing(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=1 * USDC)
    open_customer(rig.ledger, "gus", {"USDC": 5 * USDC})
    rig.request("w-short", "gus-USDC", 5 * USDC, asset="USDC")  # the hot wallet has only 1
    processor_for(rig).run_once()
    failed = rig.service.find("w-short")
    assert failed is not None and failed.status is S.FAILED
    assert "the node refused the transaction" in failed.reason
    assert rig.ledger.balance("gus-USDC").available == 5 * USDC
    assert rig.client.pending_nonce(rig.hot) == 0


def test_a_stuck_withdrawal_is_replaced_with_fees_raised_ten_percent_and_goes_final(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    clock = ManualClock()
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0, clock=clock)
    open_customer(rig.ledger, "hal", {"ETH": 1 * ETH})
    rig.client.request("evm_setAutomine", [False])
    cheap = FeePolicy(min_priority_fee=GWEI, base_fee_headroom_percent=100)
    processor = processor_for(rig, policy=cheap, clock=clock)
    rig.request("w-stuck", "hal-ETH", ETH // 10)
    processor.run_once()
    stuck = rig.service.find("w-stuck")
    assert stuck is not None and stuck.status is S.BROADCAST
    rig.client.request("anvil_setNextBlockBaseFeePerGas", [hex(50 * GWEI)])
    rig.mine(1)
    processor.run_once()
    assert rig.client.receipt(stuck.tx_hash or "") is None  # really stuck

    clock.advance(minutes=3)
    processor.run_once()
    replaced = rig.service.find("w-stuck")
    assert replaced is not None and replaced.status is S.BROADCAST
    assert replaced.tx_hash != stuck.tx_hash
    rig.mine(2)
    processor.run_once()

    final = rig.service.find("w-stuck")
    assert final is not None and final.status is S.FINAL and final.tx_hash == replaced.tx_hash
    original, bumped = NonceManager(engine).attempts(anvil.chain_id, rig.hot, 0)
    assert bumped.max_fee_per_gas * 10 >= original.max_fee_per_gas * 11
    assert bumped.max_priority_fee_per_gas * 10 >= original.max_priority_fee_per_gas * 11
    assert rig.client.receipt(stuck.tx_hash or "") is None
    assert rig.client.mined_nonce(rig.hot) == 1
    fees = rig.ledger.balance(network_fees_account_id(anvil.chain_id, "ETH")).posted
    assert fees == final.fee


def test_requests_are_validated_and_the_ledger_refuses_more_than_is_available(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "ivy", {"ETH": 1 * ETH, "USDC": 1 * USDC})
    chain = anvil.chain_id

    def ask(**changes: object) -> None:
        fields: dict[str, object] = {
            "withdrawal_id": "w-x",
            "account_id": "ivy-ETH",
            "chain_id": chain,
            "asset": "ETH",
            "amount": 1,
            "to_address": PAYEE,
        }
        rig.service.request(WithdrawalRequest(**{**fields, **changes}))  # type: ignore[arg-type]

    with pytest.raises(InvalidAddress, match="EIP-55"):
        ask(to_address=PAYEE.lower())
    with pytest.raises(InvalidAddress, match="20-byte"):
        ask(to_address="0x1234")
    with pytest.raises(InvalidAddress, match="zero address"):
        ask(to_address="0x" + "0" * 40)
    with pytest.raises(UnknownChain):
        ask(chain_id=999)
    with pytest.raises(UnknownToken):
        ask(asset="DAI")
    with pytest.raises(InvalidWithdrawal, match="positive"):
        ask(amount=0)
    with pytest.raises(LimitExceeded):
        ask(amount=2 * ETH)
    assert rig.service.find("w-x") is None
    assert rig.ledger.balance("ivy-ETH").available == 1 * ETH

    first = rig.service.request(WithdrawalRequest("w-y", "ivy-ETH", chain, "ETH", 5, f" {PAYEE} "))
    assert first.to_address == PAYEE
    again = rig.service.request(WithdrawalRequest("w-y", "ivy-ETH", chain, "ETH", 5, PAYEE))
    assert again == first
    assert rig.ledger.balance("ivy-ETH").available == 1 * ETH - 5  # held once
    with pytest.raises(WithdrawalConflict):
        rig.service.request(WithdrawalRequest("w-y", "ivy-ETH", chain, "ETH", 6, PAYEE))
    assert NonceManager(engine).in_flight(chain, rig.hot) == []  # requests sign nothing


def test_the_worker_loop_is_idle_without_work_and_pays_out_under_its_chain_lease(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore, tmp_path: Path
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "joe", {"ETH": 1 * ETH})
    config = ChainConfig(chain_id=anvil.chain_id, name="anvil", rpc_url=anvil.url, confirmations=1)
    settings = CryptoSettings(
        chains=[config],
        key_store="software",
        key_dir=tmp_path / "keys",
        key_passphrase=SecretStr(PASSPHRASE),
        scrypt_n=FAST_SCRYPT_N,
    )
    idle_settings = settings.model_copy(
        update={"chains": [config.model_copy(update={"rpc_url": "http://127.0.0.1:9"})]}
    )
    [idle] = build_withdrawal_loops(engine, rig.ledger, idle_settings)
    assert idle.step() == 0  # nothing open: neither node (a dead port here) nor keys touched

    [loop] = build_withdrawal_loops(engine, rig.ledger, settings)
    assert loop.name == f"withdrawals-{anvil.chain_id}"
    assert loop.lease is not None and loop.lease.name == withdrawal_lease_name(anvil.chain_id)
    rig.request("w-loop", "joe-ETH", ETH // 3)
    assert loop.step() > 0
    for _ in range(50):  # anvil may show a receipt a moment before its block number
        current = rig.service.find("w-loop")
        if current is not None and current.is_terminal:
            break
        time.sleep(0.05)
        loop.step()
    done = rig.service.find("w-loop")
    assert done is not None and done.status is S.FINAL
    assert done.hot_address == rig.hot


def test_a_reorg_that_drops_the_mined_block_resends_the_same_signed_transaction(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0, confirmations=3)
    open_customer(rig.ledger, "kay", {"ETH": 1 * ETH})
    snapshot = rig.client.request("evm_snapshot", [])
    rig.request("w-reorg", "kay-ETH", ETH // 5)
    processor = processor_for(rig)
    processor.run_once()
    mined = rig.service.find("w-reorg")
    assert mined is not None and mined.status is S.MINED

    rig.client.request("evm_revert", [snapshot])  # the block with our transaction is gone
    assert rig.client.receipt(mined.tx_hash or "") is None
    processor.run_once()  # back to broadcast; the same bytes are offered again
    processor.run_once()
    rig.mine(3)
    processor.run_once()

    final = rig.service.find("w-reorg")
    assert final is not None and final.status is S.FINAL
    assert final.tx_hash == mined.tx_hash  # the very same transaction, not a new one
    assert rig.client.mined_nonce(rig.hot) == 1
    assert len(NonceManager(engine).attempts(anvil.chain_id, rig.hot, 0)) == 1
    assert transitions(engine, "w-reorg")[3:] == ["mined", "broadcast", "mined", "final"]
    assert rig.ledger.balance("kay-ETH").posted == ETH - ETH // 5


def test_two_chains_pay_out_from_their_own_hot_wallets_with_their_own_nonces(
    engine: Engine, two_anvils: tuple[AnvilNode, AnvilNode], software_store: KeyStore
) -> None:
    first, second = two_anvils
    rigs = [
        make_rig(engine, node.url, node.chain_id, software_store, hot_usdc=0, confirmations=1)
        for node in two_anvils
    ]
    assert rigs[0].hot != rigs[1].hot
    open_customer(rigs[0].ledger, "lou", {"ETH": 1 * ETH})
    service = WithdrawalService(
        engine, rigs[0].ledger, ChainRegistry([rigs[0].chain, rigs[1].chain])
    )
    for i, node in enumerate((first, second)):
        service.request(WithdrawalRequest(f"w-{i}", "lou-ETH", node.chain_id, "ETH", 10**15, PAYEE))
    for rig in rigs:
        processor = processor_for(rig)
        for _ in range(50):  # anvil may show a receipt a moment before its block number
            if processor.run_once() == 0 and not [
                w for w in service.recent(chain_id=rig.chain.chain_id) if not w.is_terminal
            ]:
                break
            time.sleep(0.05)
    for i, rig in enumerate(rigs):
        w = service.find(f"w-{i}")
        assert w is not None and w.status is S.FINAL and w.nonce == 0
        assert w.hot_address == rig.hot and rig.client.mined_nonce(rig.hot) == 1
        fees = rig.ledger.balance(network_fees_account_id(rig.chain.chain_id, "ETH"))
        assert fees.posted == w.fee
    assert rigs[0].ledger.balance("lou-ETH").posted == ETH - 2 * 10**15


def test_no_withdrawal_is_signed_or_refused_while_another_worker_signs_on_the_chain(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "mia", {"ETH": 1 * ETH})
    rig.request("w-wait", "mia-ETH", ETH // 8)
    other = lease_for(engine, f"crypto-withdrawal-signing-{anvil.chain_id}")
    assert other.try_acquire()  # another worker is deciding right now
    try:
        assert processor_for(rig, policy=FeePolicy(max_fee_cap=1)).run_once() == 0
        waiting = rig.service.find("w-wait")
        assert waiting is not None and waiting.status is S.HELD  # neither signed nor refused
        assert rig.ledger.balance("mia-ETH").available == ETH - ETH // 8
    finally:
        other.release()
    processor_for(rig).run_once()
    signed = rig.service.find("w-wait")
    assert signed is not None and signed.status is S.MINED


def test_a_node_that_is_down_leaves_the_withdrawal_held_for_the_next_round(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "ned", {"ETH": 1 * ETH})
    rig.request("w-down", "ned-ETH", ETH // 2)
    down = Web3ChainClient("http://127.0.0.1:9", timeout_s=1)  # nothing listens there
    with pytest.raises(NodeUnavailable):
        processor_for(rig, client=down).run_once()  # the loop backs off and tries again
    held = rig.service.find("w-down")
    assert held is not None and held.status is S.HELD
    assert rig.ledger.balance("ned-ETH").available == ETH // 2
    assert NonceManager(engine).in_flight(anvil.chain_id, rig.hot) == []

    processor_for(rig).run_once()
    back = rig.service.find("w-down")
    assert back is not None and back.status is S.MINED and back.nonce == 0
