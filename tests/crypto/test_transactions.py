"""EIP-1559 transactions signed by each key store are accepted and mined by a real anvil."""

from __future__ import annotations

import pytest

from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.adapters.vyper_compiler import compile_contract
from twinrail.crypto.domain.erc20 import decode_transfer_log
from twinrail.crypto.domain.errors import NodeError
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.token import StableTokenService
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.sandbox.anvil import AnvilNode

ETH = 10**18
USDC = 10**6


def _fund(client: Web3ChainClient, address: str, wei: int) -> None:
    client.request("anvil_setBalance", [address, hex(wei)])


def _sender(node: AnvilNode, key_store: KeyStore) -> tuple[Web3ChainClient, TransactionSender]:
    client = Web3ChainClient(node.url, timeout_s=10)
    return client, TransactionSender(client, TransactionSigner(key_store), chain_id=node.chain_id)


def test_an_eip1559_ether_transfer_is_mined(anvil: AnvilNode, key_store: KeyStore) -> None:
    client, sender = _sender(anvil, key_store)
    source, target = key_store.create_key(), key_store.create_key()
    _fund(client, source, 5 * ETH)

    receipt = sender.send(source, target, value=ETH + 1)

    assert receipt.status == 1
    tx = client.request("eth_getTransactionByHash", [receipt.tx_hash])
    assert int(tx["type"], 16) == 2 and tx["from"].lower() == source.lower()
    assert client.balance(target) == ETH + 1
    assert client.balance(source) == 5 * ETH - (ETH + 1) - receipt.fee
    assert client.pending_nonce(source) == 1


def test_the_token_is_deployed_minted_and_transferred(
    anvil: AnvilNode, key_store: KeyStore
) -> None:
    client, sender = _sender(anvil, key_store)
    owner, customer = key_store.create_key(), key_store.create_key()
    _fund(client, owner, ETH)
    _fund(client, customer, ETH)
    tokens = StableTokenService(client, sender, chain_id=anvil.chain_id)

    token = tokens.deploy(compile_contract("StableToken").bytecode, owner)
    decimals = client.call(token.address, bytes.fromhex("313ce567"))  # decimals()
    assert int.from_bytes(decimals, "big") == 6
    tokens.mint(token.address, owner, customer, 1_000 * USDC)
    receipt = tokens.transfer(token.address, customer, owner, 250_500_000)

    assert tokens.balance_of(token.address, customer) == 749_500_000
    assert tokens.balance_of(token.address, owner) == 250_500_000
    assert [decode_transfer_log(log) for log in receipt.logs] == [(customer, owner, 250_500_000)]


def test_only_the_owner_can_mint(anvil: AnvilNode, software_store: KeyStore) -> None:
    client, sender = _sender(anvil, software_store)
    owner, intruder = software_store.create_key(), software_store.create_key()
    _fund(client, owner, ETH)
    _fund(client, intruder, ETH)
    tokens = StableTokenService(client, sender, chain_id=anvil.chain_id)
    token = tokens.deploy(compile_contract("StableToken").bytecode, owner)
    with pytest.raises(NodeError):
        tokens.mint(token.address, intruder, intruder, 1)
    assert tokens.balance_of(token.address, intruder) == 0


def test_two_chains_at_once_and_a_transaction_is_bound_to_its_chain(
    two_anvils: tuple[AnvilNode, AnvilNode], hsm_store: KeyStore
) -> None:
    first, second = two_anvils
    address = hsm_store.create_key()
    client_a, sender_a = _sender(first, hsm_store)
    client_b, _ = _sender(second, hsm_store)
    for client in (client_a, client_b):
        _fund(client, address, ETH)

    signed = sender_a.sign(sender_a.build(address, address, value=1))
    with pytest.raises(NodeError):
        client_b.send_raw_transaction(signed.raw)  # EIP-155 chain id: replay refused
    receipt = client_a.wait_for_receipt(client_a.send_raw_transaction(signed.raw), 10)

    assert receipt.status == 1
    assert client_a.pending_nonce(address) == 1
    assert client_b.pending_nonce(address) == 0
