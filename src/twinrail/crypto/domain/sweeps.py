"""Sweeps: moving a token balance from a deposit address to the hot wallet, gas first.

A sweep moves no customer money (both addresses are ours); only the gas it spends is a cost of
ours. Life cycle: `topping_up` (the hot wallet sends the deposit address enough native asset for
the token transfer's worst-case fee; skipped when it has enough) → `sweeping` (the deposit
address transfers the token to the hot wallet) → `done` (both mined, fees booked), or `failed`
(the token transfer reverted; its fee is still booked). Every transaction goes through the nonce
manager under the refs below, so a restart at any point rebroadcasts the same signed bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "GAS_REF_PREFIX",
    "SWEEP_REF_PREFIX",
    "SweepStatus",
    "Sweep",
    "SweepFinished",
    "gas_ref",
    "sweep_ref",
    "top_up_needed",
    "fee_transfer_id",
    "move_transfer_id",
]

GAS_REF_PREFIX = "sweep-gas:"
SWEEP_REF_PREFIX = "sweep:"


class SweepStatus(StrEnum):
    TOPPING_UP = "topping_up"
    SWEEPING = "sweeping"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Sweep:
    """One sweep of `amount` of `token` from the deposit `address` to `hot_wallet`."""

    id: str
    chain_id: int
    address: str
    token: str
    asset: str
    amount: int
    hot_wallet: str
    status: SweepStatus
    top_up_wei: int  # 0 when the address already held enough gas
    top_up_tx: str | None
    sweep_tx: str | None
    fee_wei: int | None  # gas paid by both transactions, once mined
    created_at: dt.datetime
    updated_at: dt.datetime


def gas_ref(sweep_id: str) -> str:
    """The nonce-manager ref of a sweep's gas top-up (sent by the hot wallet)."""
    return GAS_REF_PREFIX + sweep_id


def sweep_ref(sweep_id: str) -> str:
    """The nonce-manager ref of a sweep's token transfer (sent by the deposit address)."""
    return SWEEP_REF_PREFIX + sweep_id


def top_up_needed(gas_limit: int, max_fee_per_gas: int, balance: int, headroom_percent: int) -> int:
    """Wei to send so that `balance` covers the worst-case fee plus headroom; 0 if it does."""
    if gas_limit < 0 or max_fee_per_gas < 0 or balance < 0 or headroom_percent < 100:
        raise ValueError("gas, fees and balance must be non-negative, headroom at least 100 %")
    worst = gas_limit * max_fee_per_gas * headroom_percent // 100
    return max(0, worst - balance)


def fee_transfer_id(tx_hash: str) -> str:
    """The ledger idempotency key booking what one of a sweep's transactions paid and moved."""
    return "swfee-" + tx_hash.lower().removeprefix("0x")[:58]


def move_transfer_id(sweep_id: str) -> str:
    """The ledger idempotency key moving the swept tokens to the hot wallet's account."""
    return "swmove-" + sweep_id


@dataclass(frozen=True, slots=True)
class SweepFinished:
    """A sweep ended: `done` (tokens in the hot wallet) or `failed` (the transfer reverted)."""

    topic: ClassVar[str] = "crypto.sweep_finished"
    sweep: Sweep

    @property
    def stream_id(self) -> str:
        return f"crypto-sweep-{self.sweep.id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        s = self.sweep
        return {
            "sweep_id": s.id,
            "status": s.status.value,
            "chain_id": s.chain_id,
            "address": s.address,
            "token": s.token,
            "asset": s.asset,
            "amount": str(s.amount),
            "hot_wallet": s.hot_wallet,
            "top_up_tx": s.top_up_tx,
            "sweep_tx": s.sweep_tx,
            "fee_wei": str(s.fee_wei) if s.fee_wei is not None else None,
        }
