"""Outgoing transactions with managed nonces against a real anvil: concurrency and restarts."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.fees import FeePolicy
from twinrail.crypto.domain.nonces import NonceReservation, ReservationStatus
from twinrail.crypto.service.fees import FeeEstimator
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.outgoing import OutgoingTransactions
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.sandbox.anvil import AnvilNode

ETH = 10**18
GWEI = 10**9
PAYEE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def _outgoing(node: AnvilNode, keys: KeyStore, engine: Engine) -> OutgoingTransactions:
    """Everything built afresh, as a restarted worker process would."""
    client = Web3ChainClient(node.url, timeout_s=10)
    sender = TransactionSender(client, TransactionSigner(keys), chain_id=node.chain_id)
    return OutgoingTransactions(client, sender, NonceManager(engine), chain_id=node.chain_id)


def _funded(node: AnvilNode, keys: KeyStore) -> str:
    address = keys.create_key()
    Web3ChainClient(node.url).request("anvil_setBalance", [address, hex(10 * ETH)])
    return address


def test_concurrent_withdrawals_from_the_hsm_get_consecutive_nonces_and_all_mine(
    anvil: AnvilNode, hsm_store: KeyStore, sqlite_engine: Engine
) -> None:
    hot = _funded(anvil, hsm_store)
    receipts: list[int] = []
    errors: list[BaseException] = []

    def withdraw(i: int) -> None:
        try:
            receipt = _outgoing(anvil, hsm_store, sqlite_engine).send(
                f"withdrawal-{i}", hot, PAYEE, value=i + 1
            )
            receipts.append(receipt.status)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=withdraw, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == [] and receipts == [1] * 5
    client = Web3ChainClient(anvil.url)
    assert client.mined_nonce(hot) == 5
    assert client.balance(PAYEE) == 10_000 * ETH + sum(range(1, 6))  # anvil's preset + ours


def test_a_crash_after_signing_resumes_with_the_same_transaction(
    anvil: AnvilNode, software_store: KeyStore, engine: Engine
) -> None:
    hot = _funded(anvil, software_store)
    signed = _outgoing(anvil, software_store, engine).prepare("w-1", hot, PAYEE, value=7)
    assert signed.status is ReservationStatus.SIGNED
    # -- the worker dies here, before broadcast; a new one starts --
    restarted = _outgoing(anvil, software_store, engine)
    again = restarted.prepare("w-1", hot, PAYEE, value=7)
    assert (again.nonce, again.tx_hash, again.raw_tx) == (
        signed.nonce,
        signed.tx_hash,
        signed.raw_tx,
    )
    [receipt] = restarted.resume(hot)
    assert receipt.tx_hash == signed.tx_hash and receipt.status == 1
    assert Web3ChainClient(anvil.url).mined_nonce(hot) == 1
    assert NonceManager(engine).in_flight(anvil.chain_id, hot) == []


def test_a_crash_after_broadcast_rebroadcasts_harmlessly(
    anvil: AnvilNode, software_store: KeyStore, sqlite_engine: Engine
) -> None:
    hot = _funded(anvil, software_store)
    client = Web3ChainClient(anvil.url)
    client.request("evm_setAutomine", [False])
    first = _outgoing(anvil, software_store, sqlite_engine)
    first.broadcast(first.prepare("w-1", hot, PAYEE, value=9))
    # -- the worker dies before the receipt; a new one resumes while the tx is still pending --
    restarted = _outgoing(anvil, software_store, sqlite_engine)
    [pending] = NonceManager(sqlite_engine).in_flight(anvil.chain_id, hot)
    assert pending.status is ReservationStatus.BROADCAST
    restarted.broadcast(pending)
    client.request("evm_mine", [])
    [receipt] = restarted.resume(hot)  # and once more after it is mined
    assert receipt.status == 1 and receipt.tx_hash == pending.tx_hash
    assert client.mined_nonce(hot) == 1


def test_a_nonce_used_outside_the_manager_is_skipped(
    anvil: AnvilNode, software_store: KeyStore, sqlite_engine: Engine
) -> None:
    hot = _funded(anvil, software_store)
    client = Web3ChainClient(anvil.url)
    # someone spends nonce 0 with the same key, bypassing the manager
    TransactionSender(client, TransactionSigner(software_store), chain_id=anvil.chain_id).send(
        hot, PAYEE, value=1
    )
    receipt = _outgoing(anvil, software_store, sqlite_engine).send("w-1", hot, PAYEE, value=2)
    assert receipt.status == 1
    assert client.mined_nonce(hot) == 2


def _stuck_withdrawal(
    node: AnvilNode, keys: KeyStore, engine: Engine
) -> tuple[OutgoingTransactions, NonceReservation, str]:
    """A withdrawal broadcast with fees that the next blocks' base fee leaves behind."""
    hot = _funded(node, keys)
    client = Web3ChainClient(node.url)
    client.request("evm_setAutomine", [False])
    cheap = FeePolicy(min_priority_fee=GWEI, base_fee_headroom_percent=100)
    client_fees = FeeEstimator(client, cheap, chain_id=node.chain_id)
    sender = TransactionSender(
        client, TransactionSigner(keys), chain_id=node.chain_id, fees=client_fees
    )
    outgoing = OutgoingTransactions(client, sender, NonceManager(engine), chain_id=node.chain_id)
    stuck = outgoing.broadcast(outgoing.prepare("w-1", hot, PAYEE, value=11))
    client.request("anvil_setNextBlockBaseFeePerGas", [hex(50 * GWEI)])
    client.request("evm_mine", [])
    assert client.receipt(stuck.tx_hash or "") is None  # really stuck
    return _outgoing(node, keys, engine), stuck, hot


def test_a_stuck_transaction_is_replaced_with_fees_raised_ten_percent(
    anvil: AnvilNode, software_store: KeyStore, sqlite_engine: Engine
) -> None:
    outgoing, stuck, hot = _stuck_withdrawal(anvil, software_store, sqlite_engine)
    client = Web3ChainClient(anvil.url)

    replacement = outgoing.replace(stuck)
    client.request("evm_mine", [])
    receipt = outgoing.confirm(replacement, timeout_s=10)

    assert receipt.tx_hash == replacement.tx_hash != stuck.tx_hash
    original, bumped = NonceManager(sqlite_engine).attempts(anvil.chain_id, hot, stuck.nonce)
    # anvil would accept a one-wei bump; real nodes need 10 % on both caps, so we check it here
    assert bumped.max_fee_per_gas * 10 >= original.max_fee_per_gas * 11
    assert bumped.max_priority_fee_per_gas * 10 >= original.max_priority_fee_per_gas * 11
    assert client.mined_nonce(hot) == 1
    assert client.balance(PAYEE) == 10_000 * ETH + 11
    assert client.receipt(stuck.tx_hash or "") is None


def test_a_stuck_transaction_is_cancelled_by_a_zero_transfer_to_self(
    anvil: AnvilNode, hsm_store: KeyStore, sqlite_engine: Engine
) -> None:
    outgoing, stuck, hot = _stuck_withdrawal(anvil, hsm_store, sqlite_engine)
    client = Web3ChainClient(anvil.url)

    cancel = outgoing.replace(stuck, cancel=True)
    client.request("evm_mine", [])
    receipt = outgoing.confirm(cancel, timeout_s=10)

    tx = client.request("eth_getTransactionByHash", [receipt.tx_hash])
    assert tx["to"].lower() == hot.lower() and int(tx["value"], 16) == 0
    assert client.balance(PAYEE) == 10_000 * ETH  # the withdrawal never happened
    assert client.mined_nonce(hot) == 1
