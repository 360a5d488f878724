"""EIP-1559 fee estimation from fee history, and the caps that refuse an expensive transaction.

The priority fee is a percentile of what recent blocks' transactions tipped (the median across
blocks, floored), and the max fee leaves headroom over the next block's base fee: the base fee can
rise 12.5 % per full block, so twice the next base fee covers about six full blocks in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinrail.crypto.domain.errors import FeeCapExceeded
from twinrail.crypto.domain.transactions import FeeQuote

__all__ = [
    "FeeHistory",
    "FeePolicy",
    "estimate_fees",
    "check_fee_within_caps",
    "REPLACEMENT_BUMP_PERCENT",
    "replacement_fees",
    "is_valid_replacement",
]

# Nodes (geth's txpool.pricebump) only accept a same-nonce replacement whose fee caps both rise
# by at least this much; anvil accepts a one-wei bump, so we enforce the rule ourselves.
REPLACEMENT_BUMP_PERCENT = 10


@dataclass(frozen=True, slots=True)
class FeeHistory:
    """What eth_feeHistory told us: the next block's base fee and one tip per recent block."""

    next_base_fee: int
    rewards: tuple[int, ...]  # the policy's percentile of each block's tips (0 for empty blocks)


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """How to price and what to refuse, per chain (from configuration)."""

    priority_percentile: float = 50.0
    history_blocks: int = 10
    min_priority_fee: int = 100_000_000  # 0.1 gwei: empty recent blocks still need a tip
    base_fee_headroom_percent: int = 200  # max fee = next base fee × this / 100 + tip
    max_fee_per_gas_cap: int | None = None  # refuse when the price per gas would exceed this
    max_fee_cap: int | None = None  # refuse when gas limit × max fee per gas would exceed this

    def __post_init__(self) -> None:
        if not 0 <= self.priority_percentile <= 100:
            raise ValueError("priority_percentile must be within 0..100")
        if self.base_fee_headroom_percent < 100:
            raise ValueError("base_fee_headroom_percent below 100 would underprice the next block")
        if self.history_blocks < 1:
            raise ValueError("history_blocks must be at least 1")


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) // 2


def estimate_fees(history: FeeHistory, policy: FeePolicy) -> FeeQuote:
    """Fee caps for a transaction that should make it into one of the next few blocks."""
    tips = [r for r in history.rewards if r > 0]
    tip = max(_median(tips) if tips else 0, policy.min_priority_fee)
    max_fee = history.next_base_fee * policy.base_fee_headroom_percent // 100 + tip
    return FeeQuote(max_fee_per_gas=max_fee, max_priority_fee_per_gas=tip)


def check_fee_within_caps(
    quote: FeeQuote, gas_limit: int, policy: FeePolicy, chain_id: int
) -> None:
    """Raise FeeCapExceeded when the quote breaks a configured cap (nothing is signed then)."""
    if (
        policy.max_fee_per_gas_cap is not None
        and quote.max_fee_per_gas > policy.max_fee_per_gas_cap
    ):
        raise FeeCapExceeded(
            "the network's price per gas is above the configured cap",
            chain_id=chain_id,
            max_fee_per_gas=quote.max_fee_per_gas,
            cap_per_gas=policy.max_fee_per_gas_cap,
        )
    worst_case = gas_limit * quote.max_fee_per_gas
    if policy.max_fee_cap is not None and worst_case > policy.max_fee_cap:
        raise FeeCapExceeded(
            "the transaction could cost more in fees than the configured cap",
            chain_id=chain_id,
            max_fee=worst_case,
            cap=policy.max_fee_cap,
            gas_limit=gas_limit,
            max_fee_per_gas=quote.max_fee_per_gas,
        )


def _bumped(value: int) -> int:
    return -(-value * (100 + REPLACEMENT_BUMP_PERCENT) // 100)  # ceiling: never a hair short


def is_valid_replacement(previous: FeeQuote, new: FeeQuote) -> bool:
    """Whether `new` raises both caps of `previous` by the required bump."""
    return new.max_fee_per_gas >= _bumped(previous.max_fee_per_gas) and (
        new.max_priority_fee_per_gas >= _bumped(previous.max_priority_fee_per_gas)
    )


def replacement_fees(previous: FeeQuote, market: FeeQuote) -> FeeQuote:
    """Caps for a replacement: the market's, but at least the bump over the stuck transaction."""
    tip = max(market.max_priority_fee_per_gas, _bumped(previous.max_priority_fee_per_gas))
    max_fee = max(market.max_fee_per_gas, _bumped(previous.max_fee_per_gas), tip)
    return FeeQuote(max_fee_per_gas=max_fee, max_priority_fee_per_gas=tip)
