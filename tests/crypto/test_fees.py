"""EIP-1559 fees: tips from the fee history, headroom over the next base fee, caps that refuse."""

from __future__ import annotations

import pytest

from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.errors import FeeCapExceeded
from twinrail.crypto.domain.fees import (
    FeeHistory,
    FeePolicy,
    check_fee_within_caps,
    estimate_fees,
    is_valid_replacement,
    replacement_fees,
)
from twinrail.crypto.domain.transactions import FeeQuote
from twinrail.crypto.service.fees import FeeEstimator
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.sandbox.anvil import AnvilNode

GWEI = 10**9


def test_the_tip_is_the_median_of_recent_tips_and_the_max_fee_has_headroom() -> None:
    history = FeeHistory(next_base_fee=30 * GWEI, rewards=(1 * GWEI, 3 * GWEI, 2 * GWEI, 0))
    quote = estimate_fees(history, FeePolicy())
    assert quote.max_priority_fee_per_gas == 2 * GWEI  # empty blocks (0) do not drag it down
    assert quote.max_fee_per_gas == 60 * GWEI + 2 * GWEI


def test_empty_recent_blocks_still_pay_the_minimum_tip() -> None:
    quote = estimate_fees(FeeHistory(next_base_fee=GWEI, rewards=(0, 0)), FeePolicy())
    assert quote.max_priority_fee_per_gas == FeePolicy().min_priority_fee


def test_a_fee_above_the_total_cap_is_refused_with_the_numbers() -> None:
    policy = FeePolicy(max_fee_cap=21_000 * 10 * GWEI)
    quote = FeeQuote(max_fee_per_gas=11 * GWEI, max_priority_fee_per_gas=GWEI)
    with pytest.raises(FeeCapExceeded) as refused:
        check_fee_within_caps(quote, 21_000, policy, chain_id=1)
    assert refused.value.code == "crypto.fee_cap_exceeded"
    assert refused.value.context["max_fee"] == 21_000 * 11 * GWEI
    assert refused.value.context["cap"] == policy.max_fee_cap
    check_fee_within_caps(quote, 19_000, policy, chain_id=1)  # a smaller transaction fits


def test_a_price_per_gas_above_its_cap_is_refused() -> None:
    quote = FeeQuote(max_fee_per_gas=500 * GWEI, max_priority_fee_per_gas=GWEI)
    with pytest.raises(FeeCapExceeded, match="price per gas"):
        check_fee_within_caps(quote, 21_000, FeePolicy(max_fee_per_gas_cap=200 * GWEI), 1)


def test_a_policy_that_would_underprice_the_next_block_is_rejected() -> None:
    with pytest.raises(ValueError):
        FeePolicy(base_fee_headroom_percent=90)


def test_the_estimate_follows_the_node_when_the_base_fee_rises(anvil: AnvilNode) -> None:
    client = Web3ChainClient(anvil.url)
    client.request("anvil_setNextBlockBaseFeePerGas", [hex(50 * GWEI)])
    client.request("evm_mine", [])
    quote = FeeEstimator(client, FeePolicy(), chain_id=anvil.chain_id).quote()
    next_base = client.fee_history(1, 50).next_base_fee
    assert next_base > 40 * GWEI
    assert quote.max_fee_per_gas >= 2 * next_base + quote.max_priority_fee_per_gas


def test_a_transfer_priced_by_the_estimator_is_mined(
    anvil: AnvilNode, software_store: KeyStore
) -> None:
    client = Web3ChainClient(anvil.url)
    source = software_store.create_key()
    client.request("anvil_setBalance", [source, hex(10**18)])
    fees = FeeEstimator(client, FeePolicy(), chain_id=anvil.chain_id)
    sender = TransactionSender(
        client, TransactionSigner(software_store), chain_id=anvil.chain_id, fees=fees
    )
    receipt = sender.send(source, "0x" + "22" * 20, value=1)
    assert receipt.status == 1
    assert receipt.effective_gas_price >= client.fee_history(1, 50).next_base_fee // 2


def test_a_capped_chain_refuses_before_signing_and_uses_no_nonce(
    anvil: AnvilNode, software_store: KeyStore
) -> None:
    client = Web3ChainClient(anvil.url)
    source = software_store.create_key()
    client.request("anvil_setBalance", [source, hex(10**18)])
    client.request("anvil_setNextBlockBaseFeePerGas", [hex(300 * GWEI)])
    client.request("evm_mine", [])
    policy = FeePolicy(max_fee_cap=21_000 * 100 * GWEI)
    sender = TransactionSender(
        client,
        TransactionSigner(software_store),
        chain_id=anvil.chain_id,
        fees=FeeEstimator(client, policy, chain_id=anvil.chain_id),
    )
    with pytest.raises(FeeCapExceeded):
        sender.send(source, "0x" + "22" * 20, value=1)
    assert client.pending_nonce(source) == 0


def test_a_replacement_bids_at_least_ten_percent_more_even_in_a_quiet_market() -> None:
    stuck = FeeQuote(max_fee_per_gas=101, max_priority_fee_per_gas=11)
    quiet = FeeQuote(max_fee_per_gas=50, max_priority_fee_per_gas=1)
    bumped = replacement_fees(stuck, quiet)
    assert (bumped.max_fee_per_gas, bumped.max_priority_fee_per_gas) == (112, 13)  # rounded up
    assert is_valid_replacement(stuck, bumped)
    busy = FeeQuote(max_fee_per_gas=500, max_priority_fee_per_gas=40)
    assert replacement_fees(stuck, busy) == busy
    assert not is_valid_replacement(stuck, FeeQuote(111, 13))
